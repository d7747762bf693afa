#include "mock_run.hpp"

#include "pcp_responder.hpp"
#include "proc_stats.hpp"
#include "tracker.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace plum::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kBin = 100ms; // histogram resolution

// What the parent asks the child router, one byte per question.
constexpr char kAskCounts = 'c';
constexpr char kQuit = 'q';

struct RouterCounts {
	uint64_t map_requests = 0; // PCP MAP (creates, renewals, deletes)
	uint64_t held = 0;         // live mappings
};

bool read_full(int fd, void *p, size_t n) {
	auto *b = static_cast<char *>(p);
	while (n > 0) {
		const ssize_t got = ::read(fd, b, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		b += got;
		n -= size_t(got);
	}
	return true;
}

bool write_full(int fd, const void *p, size_t n) {
	const auto *b = static_cast<const char *>(p);
	while (n > 0) {
		const ssize_t put = ::write(fd, b, n);
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			return false;
		b += put;
		n -= size_t(put);
	}
	return true;
}

// The child: serves PCP on 127.0.0.1:0, tells its port, answers questions
// until told to quit (or the parent goes away).
[[noreturn]] void router_child(int ask_fd, int answer_fd) {
	int rc = 0;
	{
		test::PcpResponder router;
		const uint16_t port = router.port();
		if (!write_full(answer_fd, &port, sizeof port))
			::_exit(1);
		char q = 0;
		while (read_full(ask_fd, &q, 1) && q == kAskCounts) {
			const auto c = router.counters();
			RouterCounts rc2{c.pcp_map, router.mappings().size()};
			if (!write_full(answer_fd, &rc2, sizeof rc2)) {
				rc = 1;
				break;
			}
		}
	}
	::_exit(rc);
}

class ChildRouter {
public:
	~ChildRouter() { stop(); }

	bool start() {
		int ask[2];
		int answer[2];
		if (::pipe(ask) != 0 || ::pipe(answer) != 0)
			return false;
		pid_ = ::fork();
		if (pid_ < 0)
			return false;
		if (pid_ == 0) {
			::close(ask[1]);
			::close(answer[0]);
			router_child(ask[0], answer[1]);
		}
		::close(ask[0]);
		::close(answer[1]);
		ask_ = ask[1];
		answer_ = answer[0];
		return read_full(answer_, &port_, sizeof port_);
	}
	uint16_t port() const { return port_; }

	RouterCounts counts() {
		RouterCounts c;
		if (!write_full(ask_, &kAskCounts, 1) || !read_full(answer_, &c, sizeof c))
			return RouterCounts{~uint64_t(0), ~uint64_t(0)};
		return c;
	}

	void stop() {
		if (pid_ <= 0)
			return;
		write_full(ask_, &kQuit, 1);
		::close(ask_);
		::close(answer_);
		int status = 0;
		::waitpid(pid_, &status, 0);
		pid_ = -1;
	}

private:
	pid_t pid_ = -1;
	int ask_ = -1;
	int answer_ = -1;
	uint16_t port_ = 0;
};

// A UDP port on 127.0.0.1 that nobody uses right now (bind 0, then release).
uint16_t free_udp_port() {
	const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	uint16_t port = 0;
	if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
	    ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		::close(fd);
	return port;
}

double ms_between(Clock::time_point a, Clock::time_point b) {
	return std::chrono::duration<double, std::milli>(b - a).count();
}

} // namespace

JsonOut run_mock(const Options &o) {
	JsonOut j;
	j.add("mode", "mock").add("n", o.n).add("lifetime_s", o.lifetime_s).add("window_s", o.window_s);
	// Fork before any thread exists in this process.
	ChildRouter router;
	if (!router.start()) {
		j.add("error", "could not start the mock router");
		return j;
	}
	const Memory before = read_memory();
	j.add("rss_before_kb", before.rss_kb);

	Tracker tracker;
	tracker.expect(o.n);
	Config c;
	c.gateway_address = "127.0.0.1";
	c.local_address = "127.0.0.1";
	c.pcp_port = router.port();
	c.announce_port = free_udp_port();
	c.ssdp_address = "127.0.0.1";
	c.ssdp_port = free_udp_port();
	c.protocols = kUsePcp | kUseNatPmp;
	c.discover_timeout = 2000ms;
	c.lifetime = std::chrono::seconds(o.lifetime_s);
	c.log_level = LogLevel::None;
	Client client;
	const double cpu0 = cpu_ms();
	const auto t0 = Clock::now();
	if (auto r = client.init(c); !r.ok()) {
		j.add("error", r.error().message());
		return j;
	}
	int started = 0;
	for (int i = 0; i < o.n; ++i) {
		const auto port = uint16_t(o.base_port + i);
		if (client.start_mapping(IpProtocol::Udp, port, port, tracker.callback()).ok())
			++started;
	}
	j.add("started", started).add("start_calls_ms", ms_between(t0, Clock::now()));
	const bool done = tracker.wait([&] { return tracker.granted() >= o.n; },
	                               std::chrono::milliseconds(o.deadline_ms));
	const auto t_all = Clock::now();
	const double cpu_all = cpu_ms();
	const Memory live = read_memory();
	{
		std::lock_guard lock(tracker.mutex());
		j.add("done", done)
		    .add("granted", tracker.granted())
		    .add("failure_callbacks", tracker.failures())
		    .add("all_granted_ms", tracker.all_granted_ms())
		    .add("first_success_ms", tracker.first_success_ms())
		    .add("protocol", to_string(tracker.protocol()));
	}
	j.add("map_cpu_ms", cpu_all - cpu0).add("rss_kb", live.rss_kb).add("hwm_kb", live.hwm_kb);
	const RouterCounts at_all = router.counts();
	j.add("router_held", at_all.held).add("router_map_requests", at_all.map_requests);

	// Renewals: requests the router sees after everything is granted, in
	// 100 ms bins. Polling the child costs the driver a little CPU; that is
	// counted against plum (an over-estimate, not an under-estimate).
	if (done && o.window_s > 0) {
		std::vector<uint64_t> hist;
		uint64_t prev = at_all.map_requests;
		const double cpu_w0 = cpu_ms();
		auto next = t_all + kBin;
		const auto end = t_all + std::chrono::seconds(o.window_s);
		while (next <= end) {
			std::this_thread::sleep_until(next);
			const RouterCounts now = router.counts();
			hist.push_back(now.map_requests - prev);
			prev = now.map_requests;
			next += kBin;
		}
		const double cpu_w = cpu_ms() - cpu_w0;
		const uint64_t renewals = prev - at_all.map_requests;
		uint64_t peak = 0;
		for (auto h : hist)
			peak = std::max(peak, h);
		j.add("renewals", renewals)
		    .add("renew_cpu_ms", cpu_w)
		    .add("renewal_bin_ms", int64_t(kBin.count()))
		    .add("renewal_peak_per_bin", peak)
		    .add("renewal_histogram", hist);
		if (renewals > 0)
			j.add("cpu_ms_per_1000_renewals", cpu_w * 1000.0 / double(renewals));
	}

	const auto c0 = Clock::now();
	auto r = client.cleanup();
	j.add("cleanup_ms", ms_between(c0, Clock::now())).add("cleanup_ok", r.ok());
	j.add("router_left", router.counts().held);
	router.stop();
	return j;
}

} // namespace plum::bench
