#!/usr/bin/python3
"""Log sink for miniupnpd in the plum lab.

Without a syslog daemon, glibc's syslog() falls back to /dev/console, which
costs miniupnpd 1-3 ms per line and slows every request as mappings pile up.
lab.sh gives miniupnpd a private /dev (no /dev/console) whose /dev/log
points at this socket, or pipes its stderr here (PLUM_LAB_LOG). We keep only
the last N lines in a file, so the log stays useful for debugging and never
grows without bound. It runs in plum-rtr, where lab.sh lengthens the unix
datagram queue so that miniupnpd's syslog() does not wait for us.

usage: log_sink.py SOCKET FIFO OUTFILE [N]
"""
import collections
import os
import selectors
import signal
import socket
import sys
import time


def main():
	sock_path, fifo_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
	keep = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
	lines = collections.deque(maxlen=keep)
	dirty = False
	running = True

	def stop(_signo, _frame):
		nonlocal running
		running = False

	signal.signal(signal.SIGTERM, stop)
	signal.signal(signal.SIGINT, stop)

	if os.path.exists(sock_path):
		os.unlink(sock_path)
	sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	sock.bind(sock_path)
	os.chmod(sock_path, 0o666)

	sel = selectors.DefaultSelector()
	sel.register(sock, selectors.EVENT_READ, "syslog")

	# O_RDWR keeps the FIFO open across writer restarts (no EOF busy loop).
	fifo_fd = os.open(fifo_path, os.O_RDWR | os.O_NONBLOCK)
	sel.register(fifo_fd, selectors.EVENT_READ, "stderr")
	partial = b""

	def flush():
		tmp = out_path + ".tmp"
		with open(tmp, "w", encoding="utf-8", errors="replace") as f:
			f.writelines(lines)
		os.replace(tmp, out_path)

	last_flush = 0.0
	while running:
		events = sel.select(timeout=0.05)
		for key, _ in events:
			if key.data == "syslog":
				data = sock.recv(65536)
				lines.append("[syslog] " + data.decode("utf-8", "replace").rstrip("\n") + "\n")
			else:
				try:
					chunk = os.read(fifo_fd, 65536)
				except BlockingIOError:
					continue
				partial += chunk
				*full, partial = partial.split(b"\n")
				for line in full:
					lines.append("[stderr] " + line.decode("utf-8", "replace") + "\n")
			dirty = True
		now = time.monotonic()
		# Flush when the burst is over, or at least every 0.2 s during one.
		if dirty and (not events or now - last_flush >= 0.2):
			flush()
			dirty = False
			last_flush = now
	flush()
	sock.close()
	os.unlink(sock_path)


if __name__ == "__main__":
	main()
