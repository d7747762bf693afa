// The prober asks every protocol client at once whether the gateway speaks
// its protocol, and picks the most preferred one that answers, without
// waiting out the timeouts of those that already failed. When only a less
// preferred protocol answered, a more preferred one still gets until the
// grace window after the probe's start (PCP answers within a round trip
// when it is there): a UPnP answer that took its time is not held back by
// a further full window.
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
	size_t index = 0;           // for Choose
	bool start_grace = false;   // for Wait: a less preferred one answered
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
	// (the discover timeout), whatever its client is still trying.
	Prober(asio::io_context &io, std::vector<ProtocolClient *> clients,
	       std::chrono::milliseconds grace, std::chrono::milliseconds deadline,
	       std::function<void(Verdict)> done);
	~Prober();
	void start();

private:
	void on_result(size_t index, Result<ProbeResult> result);
	void evaluate();

	std::vector<ProtocolClient *> clients_;
	std::vector<ProbeOutcome> outcomes_;
	std::vector<std::optional<ProbeResult>> results_;
	std::optional<Error> last_error_;
	asio::steady_timer grace_timer_;
	asio::steady_timer deadline_timer_;
	std::chrono::milliseconds grace_;
	std::chrono::milliseconds deadline_;
	std::chrono::steady_clock::time_point started_;
	bool grace_started_ = false;
	bool grace_expired_ = false;
	bool decided_ = false;
	std::function<void(Verdict)> done_;
	std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace plum::engine
