// What the engine tells: each state change through the sink (with the log
// line that goes with it), and the statistics of stats().
#include "engine/engine.hpp"
#include "engine/record.hpp"

#include "net/address.hpp"

namespace plum::engine {

Mapping Engine::public_view(const Record &rec) const {
	Mapping m;
	m.protocol = rec.request.protocol;
	m.mapping_protocol = rec.protocol;
	m.internal_port = rec.request.internal_port;
	if (rec.grant && (rec.state == State::Success || rec.state == State::Destroyed)) {
		m.external_port = rec.grant->external_port;
		if (!rec.grant->external_address.is_unspecified())
			m.external_host = rec.grant->external_address.to_string();
	}
	return m;
}

void Engine::emit(Record &rec, State state, std::optional<Error> error) {
	rec.state = state;
	if (error)
		rec.last_error = error->message();
	StateChange change{rec.id, state, public_view(rec), std::move(error)};
	if (state == State::Success)
		log_.info("mapping {}: {} {} -> {}:{} via {} at gateway {}", rec.id,
		          to_string(rec.request.protocol), rec.request.internal_port,
		          change.mapping.external_host, change.mapping.external_port,
		          to_string(rec.protocol), gateway_text());
	sink_(change);
}

// --- statistics ------------------------------------------------------------

void Engine::note_failure(Record &rec, const Error &e) {
	++rec.failed_attempts;
	rec.last_error = e.message();
	// Once per event at INFO: the first failure of a mapping that worked or
	// was being made. Its retries (every backoff step) go to DEBUG.
	const LogLevel level = rec.state == State::Failure ? LogLevel::Debug : LogLevel::Info;
	log_.log(level, "mapping {} ({} {}) via {} at gateway {}: {}", rec.id,
	         to_string(rec.request.protocol), rec.request.internal_port,
	         to_string(rec.mapped_by ? rec.mapped_by->kind() : MappingProtocol::Unknown),
	         gateway_text(), e.message());
}

std::string Engine::gateway_text() const {
	return env_ ? env_->gateway.to_string() : std::string("?");
}

void Engine::note_mapped(Record &rec, bool held) {
	ProtocolCounters &totals = totals_[rec.protocol];
	if (rec.recreate_pending) {
		rec.recreate_pending = false;
		++rec.recreations;
		++totals.recreations;
	} else if (held) {
		++rec.renewals;
		++totals.renewals;
	}
}

void Engine::retire_counters() {
	// The clients are about to be replaced: what they counted stays.
	for (auto &c : clients_)
		totals_[c->kind()] += c->counters();
}

Stats Engine::stats() const {
	std::map<MappingProtocol, ProtocolCounters> sum = totals_;
	for (const auto &c : clients_)
		sum[c->kind()] += c->counters();
	Stats s;
	s.pcp = sum[MappingProtocol::Pcp].to_stats();
	s.natpmp = sum[MappingProtocol::NatPmp].to_stats();
	s.upnp = sum[MappingProtocol::Upnp].to_stats();
	s.active = active_protocol();
	if (env_) {
		s.gateway = env_->gateway.to_string();
		s.local_address = env_->local.to_string();
	}
	if (external_ && !external_->is_unspecified()) {
		s.external_address = external_->to_string();
		s.double_nat = net::is_double_nat(*external_);
	}
	const auto now = std::chrono::steady_clock::now();
	for (const auto &[id, rec] : records_) {
		const Mapping view = public_view(*rec);
		MappingStats m;
		m.id = id;
		m.state = rec->destroying ? State::Destroying : rec->state;
		m.protocol = rec->request.protocol;
		m.mapping_protocol = rec->protocol;
		m.internal_port = rec->request.internal_port;
		m.external_port = view.external_port;
		m.external_host = view.external_host;
		m.age = std::chrono::duration_cast<std::chrono::milliseconds>(now - rec->created);
		m.renewals = rec->renewals;
		m.recreations = rec->recreations;
		m.failures = rec->failed_attempts;
		m.last_error = rec->last_error;
		s.mappings.push_back(std::move(m));
	}
	return s;
}

} // namespace plum::engine
