#include "engine/prober.hpp"

namespace plum::engine {

ProbeDecision decide_probe(const std::vector<ProbeOutcome> &outcomes, bool grace_expired) {
	ProbeDecision d;
	std::optional<size_t> first_pending;
	for (size_t i = 0; i < outcomes.size(); ++i) {
		if (outcomes[i] == ProbeOutcome::Failed)
			continue;
		if (outcomes[i] == ProbeOutcome::Answered) {
			// Every more preferred protocol failed, or the grace ran out.
			if (!first_pending || grace_expired) {
				d.kind = ProbeDecision::Kind::Choose;
				d.index = i;
				return d;
			}
			d.start_grace = true;
			return d;
		}
		if (!first_pending)
			first_pending = i;
	}
	d.kind = first_pending ? ProbeDecision::Kind::Wait : ProbeDecision::Kind::AllFailed;
	return d;
}

Prober::Prober(asio::io_context &io, std::vector<ProtocolClient *> clients,
               std::chrono::milliseconds grace, std::chrono::milliseconds deadline,
               std::function<void(Verdict)> done, std::chrono::milliseconds live_limit)
    : clients_(std::move(clients)), outcomes_(clients_.size(), ProbeOutcome::Pending),
      results_(clients_.size()), grace_timer_(io), deadline_timer_(io), grace_(grace),
      deadline_(deadline), live_limit_(live_limit), alive_at_(clients_.size()),
      done_(std::move(done)) {}

Prober::~Prober() {
	*alive_ = false;
}

void Prober::start() {
	started_ = std::chrono::steady_clock::now();
	if (clients_.empty()) {
		evaluate();
		return;
	}
	deadline_timer_.expires_after(deadline_);
	deadline_timer_.async_wait([this, alive = alive_](std::error_code ec) {
		if (!ec && *alive && !decided_)
			on_deadline();
	});
	for (size_t i = 0; i < clients_.size(); ++i) {
		clients_[i]->probe([this, i, alive = alive_](Result<ProbeResult> r) {
			if (*alive)
				on_result(i, std::move(r));
		});
	}
}

// At the discover timeout, silent protocols count as failed; one that
// showed life keeps its chance until live_limit after that.
void Prober::on_deadline() {
	grace_expired_ = true;
	for (size_t i = 0; i < outcomes_.size(); ++i)
		if (outcomes_[i] == ProbeOutcome::Pending && !alive_at_[i])
			outcomes_[i] = ProbeOutcome::Failed;
	if (!last_error_)
		last_error_ = Error(Errc::timeout, "no answer within the discover timeout");
	arm_live_deadline();
	evaluate();
}

void Prober::arm_live_deadline() {
	std::optional<std::chrono::steady_clock::time_point> latest;
	for (size_t i = 0; i < outcomes_.size(); ++i)
		if (outcomes_[i] == ProbeOutcome::Pending && alive_at_[i])
			latest = latest ? std::max(*latest, *alive_at_[i]) : *alive_at_[i];
	if (!latest)
		return;
	deadline_timer_.expires_at(*latest + live_limit_);
	deadline_timer_.async_wait([this, alive = alive_](std::error_code ec) {
		if (ec || !*alive || decided_)
			return;
		for (auto &o : outcomes_)
			if (o == ProbeOutcome::Pending)
				o = ProbeOutcome::Failed;
		last_error_ = Error(Errc::timeout, "the gateway answered, then did not finish in time");
		evaluate();
	});
}

void Prober::note_alive(size_t index) {
	if (decided_ || index >= outcomes_.size() || outcomes_[index] != ProbeOutcome::Pending ||
	    alive_at_[index])
		return;
	const auto now = std::chrono::steady_clock::now();
	alive_at_[index] = now;
	if (!first_alive_)
		first_alive_ = now;
}

namespace {

// An error that still means the gateway answered (a refusal, a malformed
// reply), as opposed to silence or a network that says no one is there.
bool is_answer(const Error &e) {
	return e != Errc::timeout && e != Errc::unreachable && e != Errc::cancelled &&
	       e != Errc::no_gateway && e != Errc::untrusted;
}

} // namespace

void Prober::on_result(size_t index, Result<ProbeResult> result) {
	if (decided_)
		return;
	if (!first_alive_ && (result || is_answer(result.error())))
		first_alive_ = std::chrono::steady_clock::now();
	if (result) {
		outcomes_[index] = ProbeOutcome::Answered;
		results_[index] = std::move(result).value();
	} else {
		outcomes_[index] = ProbeOutcome::Failed;
		if (result.error() != Errc::cancelled)
			last_error_ = result.error();
	}
	evaluate();
}

void Prober::evaluate() {
	if (decided_)
		return;
	ProbeDecision d = decide_probe(outcomes_, grace_expired_);
	switch (d.kind) {
	case ProbeDecision::Kind::Wait:
		if (d.start_grace && !grace_started_) {
			grace_started_ = true;
			const auto until = started_ + grace_;
			if (std::chrono::steady_clock::now() >= until) {
				grace_expired_ = true;
				return evaluate();
			}
			grace_timer_.expires_at(until);
			grace_timer_.async_wait([this, alive = alive_](std::error_code ec) {
				if (ec || !*alive)
					return;
				grace_expired_ = true;
				evaluate();
			});
		}
		return;
	case ProbeDecision::Kind::Choose: {
		decided_ = true;
		grace_timer_.cancel();
		deadline_timer_.cancel();
		Verdict v{d.index, results_[d.index], last_error_};
		auto done = std::move(done_);
		done(std::move(v));
		return;
	}
	case ProbeDecision::Kind::AllFailed: {
		decided_ = true;
		grace_timer_.cancel();
		deadline_timer_.cancel();
		Verdict v{std::nullopt, std::nullopt, last_error_};
		auto done = std::move(done_);
		done(std::move(v));
		return;
	}
	}
}

} // namespace plum::engine
