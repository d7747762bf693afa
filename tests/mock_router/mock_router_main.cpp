// The loopback mock router as a program, for the demo on machines without
// network namespaces: PCP/NAT-PMP and a UPnP IGD on 127.0.0.1. Prints its
// ports on the first line, serves until stdin closes or SIGTERM/SIGINT.
#include "fake_igd.hpp"
#include "pcp_responder.hpp"

#include <csignal>
#include <cstdio>
#include <poll.h>
#include <unistd.h>

namespace {
volatile std::sig_atomic_t stop = 0;
void on_signal(int) { stop = 1; }
} // namespace

int main() {
	std::signal(SIGTERM, on_signal);
	std::signal(SIGINT, on_signal);
	plum::test::PcpResponder pcp;
	plum::test::FakeIgd igd;
	std::printf("pcp_port=%u ssdp_port=%u\n", pcp.port(), igd.ssdp_port());
	std::fflush(stdout);
	while (!stop) {
		pollfd p{STDIN_FILENO, POLLIN, 0};
		if (poll(&p, 1, 200) > 0) {
			char buf[64];
			if (read(STDIN_FILENO, buf, sizeof buf) <= 0)
				break;
		}
	}
	std::printf("mock router: %zu PCP/NAT-PMP and %zu UPnP mappings left\n", pcp.mappings().size(),
	            igd.mappings().size());
	return 0;
}
