#include "pcp/epoch.hpp"

#include <algorithm>

namespace plum::pcp {

EpochTracker::Verdict EpochTracker::observe(uint32_t epoch, Clock::time_point now) noexcept {
	const Verdict v = classify(epoch, now);
	last_ = Sample{epoch, now};
	if (v == Verdict::Restarted)
		++restarts_;
	return v;
}

EpochTracker::Verdict EpochTracker::classify(uint32_t epoch, Clock::time_point now) const noexcept {
	if (!last_)
		return Verdict::First;
	const Sample prev = *last_;

	// Our elapsed time in milliseconds keeps sub-second precision while the
	// server's count is whole seconds; a receive time that went backwards
	// (it cannot with steady_clock, but be safe) counts as zero.
	const int64_t client_ms = std::max<int64_t>(
	    0, std::chrono::duration_cast<std::chrono::milliseconds>(now - prev.at).count());
	const int64_t server_ms = (int64_t(epoch) - int64_t(prev.epoch)) * 1000;

	Verdict v = Verdict::Consistent;
	if (rule_ == Rule::Pcp) {
		if (int64_t(epoch) + 1 < int64_t(prev.epoch))
			v = Verdict::Restarted;
		else if (server_ms + 2000 < client_ms - client_ms / 16)
			v = Verdict::Restarted;
		else if (client_ms + 2000 < server_ms - server_ms / 16)
			v = Verdict::Jumped;
	} else {
		const int64_t expected_ms = int64_t(prev.epoch) * 1000 + client_ms * 7 / 8;
		const int64_t got_ms = int64_t(epoch) * 1000;
		if (got_ms + 2000 < expected_ms)
			v = Verdict::Restarted;
		else if (client_ms + 2000 < server_ms - server_ms / 16)
			v = Verdict::Jumped;
	}
	return v;
}

} // namespace plum::pcp
