// lab_soak: plum's C++ API in the lab's client namespace, holding COUNT
// mappings with a short lifetime (Config::lifetime, so they renew every few
// seconds) for HOLD_MS while the test script samples the router's rules and
// restarts it once. It says what an application would have seen: every
// FAILURE and SUCCESS after the first verdict, and whether every mapping is
// SUCCESS at the end; and what the process cost: its RSS before and after.
//
// usage: lab_soak [-t S] [-v] COUNT HOLD_MS MAPPED_FILE
//   -t S   Config::lifetime in seconds (default 6)
//   -v     plum's debug log on stderr
//
// Lines on stdout:
//   mapped=100 protocol=PCP elapsed_ms=120
//   hold failures=0 recoveries=2 all_success=1 rss_start_kb=5120 rss_end_kb=5140
//   cleanup=ok elapsed_ms=300 late_callbacks=0
//   result=ok | result=fail reason=...
// Exit status: 0 as expected, 1 anything else, 2 usage.
#include "plum/plum.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr uint16_t kBasePort = 30000;

long rss_kb() {
	std::ifstream in("/proc/self/status");
	std::string line;
	while (std::getline(in, line))
		if (line.rfind("VmRSS:", 0) == 0)
			return std::atol(line.c_str() + 6);
	return -1;
}

int fail(const std::string &why) {
	std::printf("result=fail reason=%s\n", why.c_str());
	return 1;
}

struct Watch {
	std::mutex m;
	std::vector<plum::State> state;
	long failures = 0;   // FAILURE after a SUCCESS
	long recoveries = 0; // SUCCESS after a FAILURE
	long callbacks = 0;
	plum::MappingProtocol protocol = plum::MappingProtocol::Unknown;
};

} // namespace

int main(int argc, char **argv) {
	plum::Config config;
	config.lifetime = 6s;
	int opt;
	while ((opt = getopt(argc, argv, "t:v")) != -1) {
		switch (opt) {
		case 't': config.lifetime = std::chrono::seconds(std::atoi(optarg)); break;
		case 'v':
			config.log_level = plum::LogLevel::Debug;
			config.log_callback = [](plum::LogLevel, std::string_view line) {
				std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
			};
			break;
		default: return 2;
		}
	}
	if (argc - optind != 3)
		return 2;
	const int count = std::atoi(argv[optind]);
	const long hold_ms = std::atol(argv[optind + 1]);
	const std::string mapped_file = argv[optind + 2];
	if (count < 1 || count > 1000 || hold_ms < 0)
		return 2;
	std::setvbuf(stdout, nullptr, _IOLBF, 0);

	Watch w;
	w.state.assign(size_t(count), plum::State::Pending);
	plum::Client client;
	if (auto r = client.init(config); !r)
		return fail("init: " + r.error().message());
	const auto t0 = Clock::now();
	const auto ms_since = [](Clock::time_point t) {
		return static_cast<long long>(
		    std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
	};
	std::vector<int> ids;
	for (int i = 0; i < count; ++i) {
		auto id = client.start_mapping(
		    i % 2 ? plum::IpProtocol::Udp : plum::IpProtocol::Tcp, uint16_t(kBasePort + i), 0,
		    [&w, i](int, plum::State s, const plum::Mapping &m) {
			    std::lock_guard lock(w.m);
			    ++w.callbacks;
			    plum::State &was = w.state[size_t(i)];
			    if (s == plum::State::Failure && was == plum::State::Success)
				    ++w.failures;
			    if (s == plum::State::Success && was == plum::State::Failure)
				    ++w.recoveries;
			    if (s == plum::State::Success)
				    w.protocol = m.mapping_protocol;
			    was = s;
		    });
		if (!id)
			return fail("start_mapping: " + id.error().message());
		ids.push_back(*id);
	}
	const auto all_success = [&] {
		std::lock_guard lock(w.m);
		for (auto s : w.state)
			if (s != plum::State::Success)
				return false;
		return true;
	};
	const auto deadline = Clock::now() + 30s;
	while (!all_success() && Clock::now() < deadline)
		std::this_thread::sleep_for(10ms);
	if (!all_success()) {
		(void)client.cleanup();
		return fail("not every mapping was granted within 30 s");
	}
	{
		std::lock_guard lock(w.m);
		w.failures = w.recoveries = 0; // first verdicts are not the soak's
		std::printf("mapped=%d protocol=%s elapsed_ms=%lld\n", count,
		            std::string(plum::to_string(w.protocol)).c_str(), ms_since(t0));
	}
	{
		std::ofstream out(mapped_file + ".tmp");
		out << "mapped\n";
	}
	std::rename((mapped_file + ".tmp").c_str(), mapped_file.c_str());

	const long rss_start = rss_kb();
	const auto hold_end = Clock::now() + std::chrono::milliseconds(hold_ms);
	while (Clock::now() < hold_end)
		std::this_thread::sleep_for(50ms);
	// The router restarted during the hold: give the last recovery a moment.
	const auto settle = Clock::now() + 10s;
	while (!all_success() && Clock::now() < settle)
		std::this_thread::sleep_for(10ms);
	const long rss_end = rss_kb();
	const bool ok_end = all_success();
	long failures = 0, recoveries = 0;
	{
		std::lock_guard lock(w.m);
		failures = w.failures;
		recoveries = w.recoveries;
	}
	std::printf("hold failures=%ld recoveries=%ld all_success=%d rss_start_kb=%ld rss_end_kb=%ld\n",
	            failures, recoveries, ok_end ? 1 : 0, rss_start, rss_end);

	const auto t1 = Clock::now();
	if (auto r = client.cleanup(); !r)
		return fail("cleanup: " + r.error().message());
	long at_cleanup = 0;
	{
		std::lock_guard lock(w.m);
		at_cleanup = w.callbacks;
	}
	std::this_thread::sleep_for(300ms);
	long late = 0;
	{
		std::lock_guard lock(w.m);
		late = w.callbacks - at_cleanup;
	}
	std::printf("cleanup=ok elapsed_ms=%lld late_callbacks=%ld\n", ms_since(t1), late);
	if (!ok_end)
		return fail("not every mapping was SUCCESS at the end of the hold");
	if (late != 0)
		return fail("callback_after_cleanup");
	std::printf("result=ok\n");
	return 0;
}
