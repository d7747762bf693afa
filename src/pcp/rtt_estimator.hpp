// Round-trip time estimate for the PCP / NAT-PMP exchanges, RFC 6298 style.
//
//   first sample R:  SRTT = R, RTTVAR = R/2
//   later samples:   RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|,  SRTT = 7/8 SRTT + 1/8 R
//   first timeout:   SRTT + max(G, 4 RTTVAR), clamped to [floor, ceiling]
//
// Only replies to requests sent exactly once are samples (Karn's rule): a
// reply after a retransmission could answer either copy. With no sample the
// first timeout is the floor, 250 ms, which is RFC 6886's initial
// retransmission interval. The floor stays in force with samples too: a LAN
// gateway answers in about a millisecond, and retrying faster than the RFC
// allows would only add load to a router that is busy, not lossy. What the
// estimate buys is the other direction: a router that slows down (miniupnpd
// with a thousand mappings takes > 25 ms per request, one at a time) raises
// SRTT, and the first timeout follows instead of flooding it.
//
// Pure logic: the caller measures and feeds samples; no clock here.
#pragma once

#include <algorithm>
#include <chrono>

namespace plum::pcp {

class RttEstimator {
public:
	using Duration = std::chrono::microseconds;

	static constexpr Duration kDefaultFloor = std::chrono::milliseconds(250);
	static constexpr Duration kDefaultCeiling = std::chrono::seconds(30);
	static constexpr Duration kGranularity = std::chrono::milliseconds(1);

	RttEstimator() = default;
	RttEstimator(Duration floor, Duration ceiling) : floor_(floor), ceiling_(ceiling) {}

	// One unambiguous round trip (Karn: the request was sent once).
	void add_sample(Duration rtt) noexcept {
		if (rtt < Duration::zero())
			rtt = Duration::zero();
		if (samples_ == 0) {
			srtt_ = rtt;
			rttvar_ = rtt / 2;
			min_rtt_ = rtt;
		} else {
			const Duration diff = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
			rttvar_ = (3 * rttvar_ + diff) / 4;
			srtt_ = (7 * srtt_ + rtt) / 8;
			min_rtt_ = std::min(min_rtt_, rtt);
		}
		++samples_;
	}

	bool has_sample() const noexcept { return samples_ != 0; }
	unsigned long samples() const noexcept { return samples_; }
	Duration srtt() const noexcept { return srtt_; }
	Duration rttvar() const noexcept { return rttvar_; }
	// The smallest round trip seen: the gateway's unloaded latency.
	Duration min_rtt() const noexcept { return min_rtt_; }

	// The timeout for the first transmission of a new request.
	Duration initial_timeout() const noexcept {
		if (samples_ == 0)
			return floor_;
		const Duration rto = srtt_ + std::max(kGranularity, 4 * rttvar_);
		return std::clamp(rto, floor_, std::max(floor_, ceiling_));
	}
	Duration floor() const noexcept { return floor_; }
	Duration ceiling() const noexcept { return ceiling_; }

private:
	Duration floor_ = kDefaultFloor;
	Duration ceiling_ = kDefaultCeiling;
	Duration srtt_{0};
	Duration rttvar_{0};
	Duration min_rtt_{0};
	unsigned long samples_ = 0;
};

} // namespace plum::pcp
