// How many requests may wait for an answer at once on one gateway socket:
// additive increase, multiplicative decrease, as TCP does with its window.
//
// Why: miniupnpd serves one request at a time and slows to > 25 ms per
// request when it holds ~1000 mappings. Sixteen requests in flight with
// fixed 250 ms retries made it collapse (536 of 1000 mappings granted after
// 60 s): every retry joined the queue of a router that was busy, not lossy.
// So requests beyond the window wait on our side, and the window follows
// what the router shows:
//   - an answer whose round trip stays near the smallest seen: +1
//   - a retransmission timeout, or a round trip well above the smallest: /2
//   - never below `min`, never above `max`.
// One decrease per round: requests sent before the last decrease carry old
// news (they were queued behind the same congestion), so their signals do
// not halve the window again. Each first transmission takes a sequence
// number from next_seq(); signals quote it.
//
// Pure logic: fed with samples, testable without sockets or clocks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace plum::pcp {

struct WindowOptions {
	size_t initial = 4;
	size_t min = 1;
	size_t max = 64;
	// "Near the minimum": rtt <= near_factor * min_rtt + near_slack.
	unsigned near_factor = 2;
	std::chrono::microseconds near_slack = std::chrono::milliseconds(2);
	// "Well above the minimum": rtt > far_factor * min_rtt + far_slack. The
	// slack is about one busy-miniupnpd service time, so a LAN's jitter
	// (tens of microseconds to a few ms) never reads as congestion.
	unsigned far_factor = 4;
	std::chrono::microseconds far_slack = std::chrono::milliseconds(20);
};

class InFlightWindow {
public:
	using Duration = std::chrono::microseconds;

	explicit InFlightWindow(WindowOptions options = {}) : options_(sanitize(options)) {
		limit_ = std::clamp(options_.initial, options_.min, options_.max);
	}

	size_t limit() const noexcept { return limit_; }
	const WindowOptions &options() const noexcept { return options_; }
	unsigned long increases() const noexcept { return increases_; }
	unsigned long decreases() const noexcept { return decreases_; }

	// The sequence number of a request being sent for the first time.
	uint64_t next_seq() noexcept { return seq_++; }

	// An unambiguous answer (sent once) to request `seq` after `rtt`;
	// min_rtt is the smallest round trip seen so far (this one included).
	void on_answer(uint64_t seq, Duration rtt, Duration min_rtt) noexcept {
		if (rtt > options_.far_factor * min_rtt + options_.far_slack) {
			decrease(seq);
			return;
		}
		if (rtt <= options_.near_factor * min_rtt + options_.near_slack && limit_ < options_.max) {
			++limit_;
			++increases_;
		}
	}

	// A transmission of request `seq` went unanswered for its timeout.
	void on_timeout(uint64_t seq) noexcept { decrease(seq); }

private:
	static WindowOptions sanitize(WindowOptions o) noexcept {
		o.min = std::max<size_t>(o.min, 1);
		o.max = std::max(o.max, o.min);
		return o;
	}
	void decrease(uint64_t seq) noexcept {
		if (seq < recovery_seq_)
			return;
		recovery_seq_ = seq_;
		const size_t halved = std::max(options_.min, limit_ / 2);
		if (halved != limit_) {
			limit_ = halved;
			++decreases_;
		}
	}

	WindowOptions options_;
	size_t limit_ = 4;
	uint64_t seq_ = 0;
	uint64_t recovery_seq_ = 0;
	unsigned long increases_ = 0;
	unsigned long decreases_ = 0;
};

} // namespace plum::pcp
