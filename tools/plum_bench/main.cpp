// plum_bench: the benchmark driver behind tools/bench. One mode per run, a
// fresh process each time; it prints one JSON object on stdout.
#include "engine_runs.hpp"
#include "mock_run.hpp"
#include "reference_sender.hpp"

#include "plum/plum.hpp"

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr const char *kUsage =
    "usage: plum_bench MODE [options]\n"
    "modes:\n"
    "  bulk      N mappings from init to all-SUCCESS, RSS, then cleanup\n"
    "  restart   N mappings, --on-ready CMD restarts the router, time until all are back\n"
    "  renew     N mappings with a short --lifetime, CPU per 1000 renewals over --window\n"
    "  floor     the router's floor: raw PCP MAP, one in flight, then deletes\n"
    "  mock      the engine against the loopback mock router (no root, no lab)\n"
    "options:\n"
    "  --gateway IP --local IP   the router and our address (not for mock)\n"
    "  --protocols all|pcp|natpmp|upnp|pcp,natpmp   what plum may use (default all)\n"
    "  --pcp-port P              PCP/NAT-PMP server port (default 5351)\n"
    "  -n N                      mappings (default 1)\n"
    "  --base-port P             first internal port (default 20000)\n"
    "  --udp                     UDP mappings (default TCP)\n"
    "  --discover-ms MS --recheck-ms MS --lifetime S   plum's settings\n"
    "  --deadline-ms MS          the wait for all-SUCCESS (default 60000)\n"
    "  --expect-failure          bulk: wait for the first FAILURE instead\n"
    "  --trace                   bulk/restart: plum's debug log, timed, in the output\n"
    "  --cleanup-pending         bulk: cleanup once a tenth are granted, the rest pending\n"
    "  --window S                renew/mock: renewals watched for S seconds\n"
    "  --on-ready CMD            restart: the command restarting the router\n"
    "  --count-cmd CMD           restart: prints the router's rule count\n"
    "  --rto-ms MS               floor: fixed retransmission timeout (default 2000)\n";

[[noreturn]] void usage_error(const std::string &what) {
	std::fprintf(stderr, "plum_bench: %s\n%s", what.c_str(), kUsage);
	std::exit(2);
}

int to_int(const char *s, const char *name, long lo, long hi) {
	char *end = nullptr;
	errno = 0;
	const long v = std::strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage_error(std::string("bad value for ") + name + ": " + s);
	return int(v);
}

unsigned to_protocols(std::string_view s) {
	unsigned mask = 0;
	while (!s.empty()) {
		const auto comma = s.find(',');
		const std::string_view word = s.substr(0, comma);
		if (word == "all")
			mask |= plum::kUseAll;
		else if (word == "pcp")
			mask |= plum::kUsePcp;
		else if (word == "natpmp")
			mask |= plum::kUseNatPmp;
		else if (word == "upnp")
			mask |= plum::kUseUpnp;
		else
			usage_error("bad --protocols: " + std::string(word));
		s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
	}
	return mask;
}

plum::bench::Options parse(int argc, char **argv) {
	plum::bench::Options o;
	if (argc < 2)
		usage_error("a mode is required");
	o.mode = argv[1];
	if (o.mode == "-h" || o.mode == "--help") {
		std::fputs(kUsage, stdout);
		std::exit(0);
	}
	for (int i = 2; i < argc; ++i) {
		const std::string_view a = argv[i];
		auto value = [&]() -> const char * {
			if (i + 1 >= argc)
				usage_error(std::string(a) + " needs a value");
			return argv[++i];
		};
		if (a == "--gateway")
			o.gateway = value();
		else if (a == "--local")
			o.local = value();
		else if (a == "--protocols")
			o.protocols = to_protocols(value());
		else if (a == "--pcp-port")
			o.pcp_port = uint16_t(to_int(value(), "--pcp-port", 1, 65535));
		else if (a == "-n")
			o.n = to_int(value(), "-n", 1, 20000);
		else if (a == "--base-port")
			o.base_port = uint16_t(to_int(value(), "--base-port", 1024, 65535));
		else if (a == "--udp")
			o.udp = true;
		else if (a == "--discover-ms")
			o.discover_ms = to_int(value(), "--discover-ms", 0, 600000);
		else if (a == "--recheck-ms")
			o.recheck_ms = to_int(value(), "--recheck-ms", 0, 3600000);
		else if (a == "--lifetime")
			o.lifetime_s = to_int(value(), "--lifetime", 0, 86400);
		else if (a == "--deadline-ms")
			o.deadline_ms = to_int(value(), "--deadline-ms", 1, 3600000);
		else if (a == "--expect-failure")
			o.expect_failure = true;
		else if (a == "--trace")
			o.trace = true;
		else if (a == "--cleanup-pending")
			o.cleanup_pending = true;
		else if (a == "--window")
			o.window_s = to_int(value(), "--window", 0, 3600);
		else if (a == "--on-ready")
			o.on_ready = value();
		else if (a == "--count-cmd")
			o.count_cmd = value();
		else if (a == "--rto-ms")
			o.rto_ms = to_int(value(), "--rto-ms", 10, 60000);
		else
			usage_error("unknown option " + std::string(a));
	}
	if (o.base_port + o.n - 1 > 65535)
		usage_error("--base-port + -n runs past port 65535");
	if (o.mode != "mock" && (o.gateway.empty() || o.local.empty()))
		usage_error(o.mode + " needs --gateway and --local");
	return o;
}

} // namespace

int main(int argc, char **argv) {
	const plum::bench::Options o = parse(argc, argv);
	plum::bench::JsonOut out;
	if (o.mode == "bulk")
		out = plum::bench::run_bulk(o);
	else if (o.mode == "restart")
		out = plum::bench::run_restart(o);
	else if (o.mode == "renew")
		out = plum::bench::run_renew(o);
	else if (o.mode == "floor")
		out = plum::bench::run_reference_sender(o);
	else if (o.mode == "mock")
		out = plum::bench::run_mock(o);
	else
		usage_error("unknown mode " + o.mode);
	std::printf("%s\n", out.str().c_str());
	return 0;
}
