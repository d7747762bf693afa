// Server epoch tracking: has the gateway restarted (and lost our mappings)?
//
// Every PCP and NAT-PMP response carries the server's "seconds since start
// of epoch". Between two responses the server's count must advance about as
// much as our own clock did; when it advances clearly less, the server
// restarted or lost its state, and every mapping must be made again.
//
// RFC 6887 §8.5 (PCP), with prev/curr the previous and current values of
// the server's epoch (S) and of our receive time (C), in seconds:
//   - S_curr + 1 < S_prev                                   -> restarted
//   - dS = S_curr - S_prev, dC = C_curr - C_prev;
//     dS + 2 < dC - dC/16   (the server counted too little) -> restarted
//     dC + 2 < dS - dS/16   (the server counted too much)   -> jumped
// RFC 6886 §3.6 (NAT-PMP): the expected value is S_prev + 7/8 dC; a value
// more than 2 s below it means the gateway restarted.
//
// A jump forward is not a restart: it is what a suspended laptop sees
// (steady_clock stops during suspend, the router's does not). It is taken
// as the new reference and reported separately, for the logs.
//
// Pure logic: the caller passes the receive time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace plum::pcp {

class EpochTracker {
public:
	using Clock = std::chrono::steady_clock;
	enum class Rule { Pcp, NatPmp };
	enum class Verdict {
		First,      // no reference yet: this one becomes it
		Consistent, // the server's count kept pace with ours
		Restarted,  // it went back, or advanced clearly less than our clock
		Jumped,     // it advanced clearly more than our clock (taken as is)
	};

	explicit EpochTracker(Rule rule = Rule::Pcp) noexcept : rule_(rule) {}

	// One response's epoch, received at `now`. A restart is reported once:
	// the new epoch becomes the reference, so the next responses from the
	// restarted server read as consistent.
	Verdict observe(uint32_t epoch, Clock::time_point now) noexcept;
	// What observe() would say, without taking the sample: for a claim
	// that must be confirmed before it counts (an unsolicited ANNOUNCE).
	Verdict classify(uint32_t epoch, Clock::time_point now) const noexcept;

	// Forgets the reference (a new gateway: its epoch starts a new story).
	void reset() noexcept { last_.reset(); }

	bool has_reference() const noexcept { return last_.has_value(); }
	std::optional<uint32_t> last_epoch() const noexcept {
		return last_ ? std::optional<uint32_t>(last_->epoch) : std::nullopt;
	}
	unsigned long restarts() const noexcept { return restarts_; }

private:
	struct Sample {
		uint32_t epoch;
		Clock::time_point at;
	};
	Rule rule_;
	std::optional<Sample> last_;
	unsigned long restarts_ = 0;
};

} // namespace plum::pcp
