// lab_v6_client: plum's C++ API in the lab's client namespace, for the IPv6
// pinhole test (scenario pcp-v6). It maps one port in the chosen families,
// says what happened in machine-readable lines, and holds, destroys or
// cleans up on the test script's signal (a "go" file), so the script can
// compare each step with the router's nftables ruleset.
//
// usage: lab_v6_client [options] tcp|udp PORT MODE
//   MODE    hold      map, wait for the go file (at most -T ms), destroy
//           cleanup   map, wait for the go file (at most -T ms), cleanup()
//   -f N    Config::families (1 IPv4, 2 IPv6, 3 both; default 2)
//   -g ADDR Config::gateway_address6 (default: the default route's)
//   -G ADDR Config::gateway_address (IPv4)
//   -t S    Config::lifetime in seconds (default 0: plum's)
//   -s FILE write the SUCCESS line there once mapped
//   -w FILE the go file
//   -T MS   the longest wait for the go file (default 60000)
//   -v      plum's debug log on stderr
//
// Lines on stdout:
//   state=SUCCESS protocol=PCP external=[2001:db8:77::2]:8200 external6=2001:db8:77::2
//   event state=...                        (callbacks after the first result)
//   state=DESTROYED elapsed_ms=40 | cleanup=ok elapsed_ms=40
//   result=ok | result=fail reason=...
// Exit status: 0 as expected, 1 anything else, 2 usage.
#include "plum/plum.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

int usage() {
	std::fprintf(stderr, "usage: lab_v6_client [-f N] [-g ADDR6] [-G ADDR4] [-t S] [-s FILE] "
	                     "[-w FILE] [-T MS] [-v] tcp|udp PORT hold|cleanup\n");
	return 2;
}

std::string host_port(const std::string &host, uint16_t port) {
	if (host.find(':') != std::string::npos)
		return "[" + host + "]:" + std::to_string(port);
	return host + ":" + std::to_string(port);
}

std::string describe(plum::State state, const plum::Mapping &m) {
	std::string s = "state=" + std::string(plum::to_string(state));
	if (state == plum::State::Success) {
		s += " protocol=" + std::string(plum::to_string(m.mapping_protocol));
		s += " external=" + host_port(m.external_host, m.external_port);
		s += " external6=" + (m.external_host6.empty() ? std::string("-") : m.external_host6);
	}
	return s;
}

bool exists(const std::string &path) {
	return !path.empty() && access(path.c_str(), F_OK) == 0;
}

int fail(const std::string &why) {
	std::printf("result=fail reason=%s\n", why.c_str());
	return 1;
}

} // namespace

int main(int argc, char **argv) {
	plum::Config config;
	config.families = plum::kIPv6;
	std::string mapped_file, go_file;
	long go_ms = 60000;
	int opt;
	while ((opt = getopt(argc, argv, "f:g:G:t:s:w:T:v")) != -1) {
		switch (opt) {
		case 'f': config.families = static_cast<unsigned>(std::atoi(optarg)); break;
		case 'g': config.gateway_address6 = optarg; break;
		case 'G': config.gateway_address = optarg; break;
		case 't': config.lifetime = std::chrono::seconds(std::atoi(optarg)); break;
		case 's': mapped_file = optarg; break;
		case 'w': go_file = optarg; break;
		case 'T': go_ms = std::atol(optarg); break;
		case 'v':
			config.log_level = plum::LogLevel::Debug;
			config.log_callback = [](plum::LogLevel, std::string_view line) {
				std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
			};
			break;
		default: return usage();
		}
	}
	if (argc - optind != 3)
		return usage();
	const std::string proto = argv[optind], mode = argv[optind + 2];
	const int port = std::atoi(argv[optind + 1]);
	if ((proto != "tcp" && proto != "udp") || port <= 0 || port > 65535 ||
	    (mode != "hold" && mode != "cleanup"))
		return usage();
	std::setvbuf(stdout, nullptr, _IOLBF, 0);

	plum::Client client;
	if (auto r = client.init(config); !r)
		return fail("init: " + r.error().message());
	const auto t0 = Clock::now();
	auto elapsed = [&] {
		return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
	};
	auto future = client.create_mapping(
	    proto == "tcp" ? plum::IpProtocol::Tcp : plum::IpProtocol::Udp, uint16_t(port), 0, 20s,
	    [](int, plum::State state, const plum::Mapping &m) {
		    std::printf("event %s\n", describe(state, m).c_str());
	    });
	auto first = future.get();
	if (!first) {
		(void)client.cleanup();
		return fail("no mapping: " + first.error().message());
	}
	const std::string line = describe(plum::State::Success, first->mapping);
	std::printf("%s elapsed_ms=%lld\n", line.c_str(), static_cast<long long>(elapsed()));
	if (!mapped_file.empty()) {
		std::ofstream out(mapped_file + ".tmp");
		out << line << "\n";
		out.close();
		std::rename((mapped_file + ".tmp").c_str(), mapped_file.c_str());
	}

	// Hold until the script says go (bounded).
	const auto go_deadline = Clock::now() + std::chrono::milliseconds(go_ms);
	while (!exists(go_file) && Clock::now() < go_deadline)
		std::this_thread::sleep_for(20ms);

	const auto t1 = Clock::now();
	auto since = [&] {
		return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t1).count();
	};
	if (mode == "cleanup") {
		auto r = client.cleanup();
		if (!r)
			return fail("cleanup: " + r.error().message());
		std::printf("cleanup=ok elapsed_ms=%lld\n", static_cast<long long>(since()));
		std::printf("result=ok\n");
		return 0;
	}
	client.destroy_mapping(first->id);
	const auto deadline = Clock::now() + 15s;
	while (client.query_mapping(first->id) && Clock::now() < deadline)
		std::this_thread::sleep_for(10ms);
	if (client.query_mapping(first->id)) {
		(void)client.cleanup();
		return fail("not DESTROYED within 15 s");
	}
	std::printf("state=DESTROYED elapsed_ms=%lld\n", static_cast<long long>(since()));
	(void)client.cleanup();
	std::printf("result=ok\n");
	return 0;
}
