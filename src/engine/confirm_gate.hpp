// How often an unsolicited claim (a PCP ANNOUNCE, a NAT-PMP address
// notice, an SSDP advertisement) may cost us a confirming request.
//
// Such claims arrive by multicast with nothing to authenticate them: any
// host on the LAN can send one with the gateway's address as its source. We
// act only on what our own request, answered on the connected socket (or
// over TCP), says. This gate keeps that request to one at a time and at
// most one per interval, so that a flood of forged claims costs the router
// one small request a second at most, never a round of re-mappings.
#pragma once

#include <chrono>
#include <optional>

namespace plum::engine {

class ConfirmGate {
public:
	using Clock = std::chrono::steady_clock;

	explicit ConfirmGate(std::chrono::milliseconds interval = std::chrono::milliseconds(1000))
	    : interval_(interval) {}

	// True when a confirming request may start now (then call done() when
	// it completes).
	bool try_start(Clock::time_point now = Clock::now()) {
		if (in_flight_ || (last_ && now < *last_ + interval_))
			return false;
		in_flight_ = true;
		last_ = now;
		return true;
	}
	void done() { in_flight_ = false; }
	bool in_flight() const noexcept { return in_flight_; }

private:
	std::chrono::milliseconds interval_;
	bool in_flight_ = false;
	std::optional<Clock::time_point> last_;
};

} // namespace plum::engine
