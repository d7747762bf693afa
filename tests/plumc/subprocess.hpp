// Runs a program as a child process with its stdout and stderr captured
// through pipes, every wait bounded: the plumc tests drive the real binary
// the way a user or a script does.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace plum::test {

class Subprocess {
public:
	using Clock = std::chrono::steady_clock;

	explicit Subprocess(const std::vector<std::string> &argv) {
		int out[2], err[2];
		if (::pipe2(out, O_CLOEXEC) != 0)
			throw std::runtime_error("pipe2 failed");
		if (::pipe2(err, O_CLOEXEC) != 0) {
			::close(out[0]);
			::close(out[1]);
			throw std::runtime_error("pipe2 failed");
		}
		posix_spawn_file_actions_t actions;
		posix_spawn_file_actions_init(&actions);
		posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&actions, out[1], 1);
		posix_spawn_file_actions_adddup2(&actions, err[1], 2);
		std::vector<char *> args;
		for (const auto &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
		posix_spawn_file_actions_destroy(&actions);
		::close(out[1]);
		::close(err[1]);
		out_fd_ = out[0];
		err_fd_ = err[0];
		if (rc != 0) {
			close_fds();
			throw std::runtime_error("posix_spawn " + argv[0] + " failed");
		}
		started_ = Clock::now();
	}

	~Subprocess() {
		if (!reaped_) {
			::kill(pid_, SIGKILL);
			int status = 0;
			::waitpid(pid_, &status, 0);
		}
		close_fds();
	}
	Subprocess(const Subprocess &) = delete;
	Subprocess &operator=(const Subprocess &) = delete;

	// Reads output until pred() holds or the time is up.
	bool read_until(const std::function<bool()> &pred, std::chrono::milliseconds timeout) {
		const auto deadline = Clock::now() + timeout;
		while (!pred()) {
			if (Clock::now() >= deadline || (out_fd_ < 0 && err_fd_ < 0))
				return pred();
			pump(deadline);
		}
		return true;
	}

	void signal(int sig) { ::kill(pid_, sig); }
	pid_t pid() const noexcept { return pid_; }

	// Reads everything until the child exits: its exit code, 128 + the
	// signal that killed it, or -1 when it did not end in time (it is then
	// killed).
	int wait(std::chrono::milliseconds timeout) {
		const auto deadline = Clock::now() + timeout;
		while ((out_fd_ >= 0 || err_fd_ >= 0) && Clock::now() < deadline)
			pump(deadline);
		while (true) {
			int status = 0;
			const pid_t r = ::waitpid(pid_, &status, WNOHANG);
			if (r == pid_) {
				reaped_ = true;
				ended_ = Clock::now();
				return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			}
			if (Clock::now() >= deadline)
				break;
			// The pipes are closed: the child is exiting; give it a moment.
			std::this_thread::sleep_for(std::chrono::milliseconds(2));
		}
		::kill(pid_, SIGKILL);
		int status = 0;
		::waitpid(pid_, &status, 0);
		reaped_ = true;
		ended_ = Clock::now();
		return -1;
	}

	const std::string &out() const noexcept { return out_; }
	const std::string &err() const noexcept { return err_; }
	std::chrono::milliseconds elapsed() const {
		return std::chrono::duration_cast<std::chrono::milliseconds>(
		    (reaped_ ? ended_ : Clock::now()) - started_);
	}

private:
	void pump(Clock::time_point deadline) {
		pollfd fds[2];
		nfds_t n = 0;
		if (out_fd_ >= 0)
			fds[n++] = {out_fd_, POLLIN, 0};
		if (err_fd_ >= 0)
			fds[n++] = {err_fd_, POLLIN, 0};
		if (n == 0)
			return;
		const auto left =
		    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
		if (::poll(fds, n, static_cast<int>(std::max<long long>(0, left))) <= 0)
			return;
		for (nfds_t i = 0; i < n; ++i) {
			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			const bool is_out = fds[i].fd == out_fd_;
			char buf[4096];
			const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
			if (got > 0) {
				(is_out ? out_ : err_).append(buf, static_cast<size_t>(got));
			} else if (got < 0 && errno == EINTR) {
				continue; // poll says it is readable: try again next round
			} else {
				::close(fds[i].fd);
				(is_out ? out_fd_ : err_fd_) = -1;
			}
		}
	}

	void close_fds() {
		if (out_fd_ >= 0)
			::close(out_fd_);
		if (err_fd_ >= 0)
			::close(err_fd_);
		out_fd_ = err_fd_ = -1;
	}

	pid_t pid_ = -1;
	int out_fd_ = -1;
	int err_fd_ = -1;
	bool reaped_ = false;
	Clock::time_point started_;
	Clock::time_point ended_;
	std::string out_;
	std::string err_;
};

} // namespace plum::test
