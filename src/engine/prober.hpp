// The prober asks every protocol client at once whether the gateway speaks
// its protocol, and picks the most preferred one that answers, without
// waiting out the timeouts of those that already failed. When only a less
// preferred protocol answered, a more preferred one still gets until the
// grace window after the probe's start (PCP answers within a round trip
// when it is there): a UPnP answer that took its time is not held back by
// a further full window.
//
// A protocol that has shown life (the gateway answered its SSDP search, or
// any reply came) is not cut at the discover timeout: a slow router is
// still working on its answer, and giving up now would report FAILURE for
// a mapping about to succeed. It gets until live_limit after its first
// sign of life instead; its client's own per-request timeouts usually end
// it sooner.
#pragma once

#include "engine/protocol.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace plum::engine {

// The decision, as a pure function of the outcomes so far (tested alone).
enum class ProbeOutcome { Pending, Answered, Failed };
struct ProbeDecision {
	enum class Kind { Wait, Choose, AllFailed } kind = Kind::Wait;
	size_t index = 0;         // for Choose
	bool start_grace = false; // for Wait: a less preferred one answered
};
ProbeDecision decide_probe(const std::vector<ProbeOutcome> &outcomes, bool grace_expired);

class Prober {
public:
	struct Verdict {
		std::optional<size_t> chosen; // index into the clients; empty: all failed
		std::optional<ProbeResult> result;
		std::optional<Error> last_error;
	};

	// deadline: a protocol that has not answered by then counts as failed
	// (the discover timeout), whatever its client is still trying, unless
	// it showed life: then live_limit after that.
	Prober(asio::io_context &io, std::vector<ProtocolClient *> clients,
	       std::chrono::milliseconds grace, std::chrono::milliseconds deadline,
	       std::function<void(Verdict)> done,
	       std::chrono::milliseconds live_limit = std::chrono::milliseconds(30000));
	~Prober();
	void start();
	// The gateway answered something of client `index` (an SSDP answer, an
	// error reply) before its probe completed.
	void note_alive(size_t index);
	// When the gateway first showed life in this round (a completed probe
	// that is not a timeout or a network error counts too); empty: never.
	std::optional<std::chrono::steady_clock::time_point> first_alive() const {
		return first_alive_;
	}

private:
	void on_result(size_t index, Result<ProbeResult> result);
	void evaluate();
	void on_deadline();
	void arm_live_deadline();

	std::vector<ProtocolClient *> clients_;
	std::vector<ProbeOutcome> outcomes_;
	std::vector<std::optional<ProbeResult>> results_;
	std::optional<Error> last_error_;
	asio::steady_timer grace_timer_;
	asio::steady_timer deadline_timer_;
	std::chrono::milliseconds grace_;
	std::chrono::milliseconds deadline_;
	std::chrono::milliseconds live_limit_;
	std::chrono::steady_clock::time_point started_;
	// Per client: when it first showed life while pending.
	std::vector<std::optional<std::chrono::steady_clock::time_point>> alive_at_;
	std::optional<std::chrono::steady_clock::time_point> first_alive_;
	bool grace_started_ = false;
	bool grace_expired_ = false;
	bool decided_ = false;
	std::function<void(Verdict)> done_;
	std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace plum::engine
