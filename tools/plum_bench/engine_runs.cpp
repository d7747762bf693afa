#include "engine_runs.hpp"

#include "proc_stats.hpp"
#include "tracker.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace plum::bench {
namespace {

using namespace std::chrono_literals;

Config make_config(const Options &o, Tracker &tracker) {
	Config c;
	c.gateway_address = o.gateway;
	c.local_address = o.local;
	c.pcp_port = o.pcp_port;
	c.protocols = o.protocols;
	c.discover_timeout = std::chrono::milliseconds(o.discover_ms);
	c.recheck_period = std::chrono::milliseconds(o.recheck_ms);
	c.lifetime = std::chrono::seconds(o.lifetime_s);
	// Info level is where plum says "renewed" and "restarted": counting those
	// lines is how renewals and re-mappings are observed.
	c.log_level = o.trace ? LogLevel::Debug : LogLevel::Info;
	c.log_callback = tracker.log_callback();
	return c;
}

// Starts n mappings; returns how many the API accepted.
int start_all(Client &client, const Options &o, Tracker &tracker) {
	int started = 0;
	for (int i = 0; i < o.n; ++i) {
		const auto port = uint16_t(o.base_port + i);
		auto id = client.start_mapping(o.udp ? IpProtocol::Udp : IpProtocol::Tcp, port, port,
		                               tracker.callback());
		if (id.ok())
			++started;
	}
	return started;
}

double ms_between(Tracker::Clock::time_point a, Tracker::Clock::time_point b) {
	return std::chrono::duration<double, std::milli>(b - a).count();
}

void add_memory(JsonOut &j) {
	const Memory m = read_memory();
	j.add("rss_kb", m.rss_kb).add("hwm_kb", m.hwm_kb);
}

void add_outcome(JsonOut &j, Tracker &t) {
	std::lock_guard lock(t.mutex());
	j.add("granted", t.granted())
	    .add("failed_now", t.failed_now())
	    .add("failure_callbacks", t.failures())
	    .add("first_success_ms", t.first_success_ms())
	    .add("first_failure_ms", t.first_failure_ms())
	    .add("all_granted_ms", t.all_granted_ms())
	    .add("protocol", to_string(t.protocol()))
	    .add("external_host", t.external_host());
}

// Starts client, asks for o.n mappings and waits for all of them, adding
// the outcome to j. Empty when the client would not start (the error is
// in j).
std::optional<bool> map_all(Client &client, const Options &o, Tracker &tracker, JsonOut &j) {
	if (auto r = client.init(make_config(o, tracker)); !r.ok()) {
		j.add("error", r.error().message());
		return std::nullopt;
	}
	start_all(client, o, tracker);
	const bool mapped = tracker.wait([&] { return tracker.granted() >= o.n; },
	                                 std::chrono::milliseconds(o.deadline_ms));
	add_outcome(j, tracker);
	j.add("mapped", mapped);
	return mapped;
}

// Runs a shell command; its first line of output as a number, or -1.
long command_number(const std::string &cmd) {
	FILE *p = popen(cmd.c_str(), "r");
	if (!p)
		return -1;
	char buf[64] = {};
	long v = -1;
	if (std::fgets(buf, sizeof buf, p))
		v = std::strtol(buf, nullptr, 10);
	pclose(p);
	return v;
}

} // namespace

JsonOut run_bulk(const Options &o) {
	JsonOut j;
	j.add("mode", o.cleanup_pending ? "bulk_pending_cleanup" : "bulk").add("n", o.n);
	Tracker tracker;
	tracker.expect(o.n);
	if (o.trace)
		tracker.keep_trace();
	Client client;
	const auto t0 = Tracker::Clock::now();
	if (auto r = client.init(make_config(o, tracker)); !r.ok()) {
		j.add("error", r.error().message());
		return j;
	}
	j.add("init_ms", ms_between(t0, Tracker::Clock::now()));
	j.add("started", start_all(client, o, tracker));
	j.add("start_calls_ms", ms_between(t0, Tracker::Clock::now()));
	if (o.cleanup_pending) {
		// Cleanup while the router is busy with them: once a tenth are
		// granted, the rest are queued or in flight.
		const int some = std::max(1, o.n / 10);
		tracker.wait([&] { return tracker.granted() >= some; },
		             std::chrono::milliseconds(o.deadline_ms));
		std::lock_guard lock(tracker.mutex());
		j.add("granted_at_cleanup", tracker.granted()).add("cleanup_at_ms", tracker.now_ms());
	} else {
		const auto deadline = std::chrono::milliseconds(o.deadline_ms);
		bool done = false;
		if (o.expect_failure)
			done = tracker.wait([&] { return tracker.first_failure_ms().has_value(); }, deadline);
		else
			done = tracker.wait([&] { return tracker.granted() >= o.n; }, deadline);
		j.add("done", done);
		add_memory(j);
	}
	add_outcome(j, tracker);
	const auto c0 = Tracker::Clock::now();
	auto r = client.cleanup();
	j.add("cleanup_ms", ms_between(c0, Tracker::Clock::now()));
	j.add("cleanup_ok", r.ok());
	{
		std::lock_guard lock(tracker.mutex());
		j.add("destroyed", tracker.destroyed());
	}
	if (o.trace)
		j.add("trace", tracker.trace());
	return j;
}

JsonOut run_restart(const Options &o) {
	JsonOut j;
	j.add("mode", "restart").add("n", o.n);
	Tracker tracker;
	tracker.expect(o.n);
	Client client;
	const std::optional<bool> mapped = map_all(client, o, tracker, j);
	if (!mapped)
		return j;
	if (*mapped && !o.on_ready.empty()) {
		tracker.expect_remaps(o.n);
		if (o.trace)
			tracker.keep_trace(); // from the restart on
		tracker.mark();
		const double cmd_start = tracker.now_ms();
		// Its output goes to stderr: stdout carries only the JSON.
		const int rc = std::system(("(" + o.on_ready + ") 1>&2").c_str());
		const double ready = tracker.now_ms();
		j.add("restart_cmd_rc", rc).add("restart_cmd_ms", ready - cmd_start);
		// "Back" on the router: its rule count reaches n again, polled.
		std::optional<double> rules_back;
		std::optional<double> remapped_at;
		long last_count = -1;
		const auto deadline =
		    std::chrono::steady_clock::now() + std::chrono::milliseconds(o.deadline_ms);
		while (std::chrono::steady_clock::now() < deadline) {
			if (!o.count_cmd.empty() && !rules_back) {
				last_count = command_number(o.count_cmd);
				if (last_count >= o.n)
					rules_back = tracker.now_ms() - ready;
			}
			{
				std::lock_guard lock(tracker.mutex());
				if (tracker.nth_remap_ms())
					remapped_at = *tracker.nth_remap_ms() - ready;
			}
			if ((rules_back || o.count_cmd.empty()) && remapped_at)
				break;
			std::this_thread::sleep_for(20ms);
		}
		std::lock_guard lock(tracker.mutex());
		std::optional<double> seen;
		if (tracker.restart_seen_ms())
			seen = *tracker.restart_seen_ms() - ready;
		// Times are from the moment the restart command returned (the daemon
		// is up again); negative: plum acted before the command had returned.
		j.add("restart_seen_ms", seen)
		    .add("remapped_ms", remapped_at)
		    .add("remapped", tracker.remapped())
		    .add("rules_back_ms", rules_back)
		    .add("rules_last_count", int64_t(last_count));
	}
	const auto c0 = Tracker::Clock::now();
	auto r = client.cleanup();
	j.add("cleanup_ms", ms_between(c0, Tracker::Clock::now())).add("cleanup_ok", r.ok());
	if (o.trace)
		j.add("trace", tracker.trace());
	return j;
}

JsonOut run_renew(const Options &o) {
	JsonOut j;
	j.add("mode", "renew")
	    .add("n", o.n)
	    .add("lifetime_s", o.lifetime_s)
	    .add("window_s", o.window_s);
	Tracker tracker;
	tracker.expect(o.n);
	Client client;
	const std::optional<bool> mapped = map_all(client, o, tracker, j);
	if (!mapped)
		return j;
	if (*mapped) {
		tracker.mark();
		const double cpu0 = cpu_ms();
		std::this_thread::sleep_for(std::chrono::seconds(o.window_s));
		const double cpu = cpu_ms() - cpu0;
		int renewals = 0;
		{
			std::lock_guard lock(tracker.mutex());
			renewals = tracker.renewals();
		}
		j.add("renewals", renewals).add("cpu_ms", cpu);
		if (renewals > 0)
			j.add("cpu_ms_per_1000_renewals", cpu * 1000.0 / renewals);
	}
	const auto c0 = Tracker::Clock::now();
	auto r = client.cleanup();
	j.add("cleanup_ms", ms_between(c0, Tracker::Clock::now())).add("cleanup_ok", r.ok());
	return j;
}

} // namespace plum::bench
