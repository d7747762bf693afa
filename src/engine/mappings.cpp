// The mapping lifecycle: add, map, renew, switch protocol, restart
// re-creation, remove, and shutdown's bounded wait for the router.
#include "engine/engine.hpp"
#include "engine/record.hpp"

#include "net/address.hpp"

#include <algorithm>

namespace plum::engine {

namespace {

bool is_protocol_failure(const Error &e) {
	return e == Errc::timeout || e == Errc::unreachable || e == Errc::unsupported ||
	       e == Errc::no_gateway;
}

// Whether a grant is a live mapping. In PCP and NAT-PMP lifetime 0 means
// deleted; only UPnP's lease 0 means permanent. No protocol maps port 0.
std::optional<Error> not_live(MappingProtocol protocol, const MapGrant &g) {
	if (g.external_port == 0)
		return Error(Errc::failed, "granted external port 0: not mapped");
	if (g.lifetime == 0 && protocol != MappingProtocol::Upnp)
		return Error(Errc::failed, "granted lifetime 0: deleted, not mapped");
	return std::nullopt;
}

} // namespace

void Engine::add(int id, IpProtocol protocol, uint16_t internal_port, uint16_t external_port) {
	if (shutting_down_)
		return;
	auto rec = std::make_unique<Record>(io_, id);
	rec->request.protocol = protocol;
	rec->request.internal_port = internal_port;
	rec->request.external_port = external_port;
	rec->request.lifetime = settings_.lifetime;
	for (auto &b : rec->request.nonce)
		b = static_cast<uint8_t>(rng_());
	Record &r = *rec;
	records_.emplace(id, std::move(rec));
	if (!started_) {
		ensure_started();
		return; // set_environment mapped it if it could
	}
	if (direct_ || active_)
		map_record(r);
	else if (!probing_ && env_)
		begin_probe(); // a new mapping is worth a fresh look at the gateway
}

void Engine::map_record(Record &rec) {
	if (rec.destroying)
		return;
	rec.timer.cancel();
	if (direct_) {
		rec.protocol = MappingProtocol::Direct;
		MapGrant g;
		g.external_address = env_->local;
		g.external_port = rec.request.internal_port;
		g.internal_port = rec.request.internal_port;
		rec.grant = g;
		emit(rec, State::Success);
		return;
	}
	if (!active_)
		return;
	if (rec.attempt) {
		rec.remap_pending = true;
		return;
	}
	if (rec.grant && rec.mapped_by && rec.mapped_by != active_) {
		switch_protocol(rec);
		return;
	}
	if (rec.grant && rec.mapped_by == active_)
		rec.request.external_port = rec.grant->external_port; // renew what we hold
	rec.attempt = next_attempt_++;
	rec.mapped_by = active_;
	active_->map(rec.request,
	             [this, id = rec.id, attempt = rec.attempt, alive = alive_](Result<MapGrant> r) {
		             if (*alive)
			             on_mapped(id, attempt, std::move(r));
	             });
}

// The gateway now speaks another protocol (a re-probe chose it): the old
// protocol's mapping is deleted before the new one is asked for, so the
// router never holds two rules for one mapping, nor deletes the new rule
// along with the old one (one daemon often serves all three protocols).
void Engine::switch_protocol(Record &rec) {
	ProtocolClient *old = rec.mapped_by;
	const MapRequest req = deletion_of(rec);
	rec.request.external_port = rec.grant->external_port; // ask the new protocol for the same
	rec.grant.reset();
	rec.uncertain = false;
	rec.mapped_by = nullptr;
	rec.attempt = next_attempt_++;
	log_.info("mapping {}: leaving {} for {}", rec.id, to_string(old->kind()),
	          to_string(active_->kind()));
	old->unmap(req, [this, id = rec.id, attempt = rec.attempt, alive = alive_](Result<void> r) {
		if (!*alive)
			return;
		auto it = records_.find(id);
		if (it == records_.end() || it->second->attempt != attempt)
			return;
		Record &again = *it->second;
		again.attempt = 0;
		if (!r && r.error() != Errc::cancelled)
			log_.debug("mapping {}: deleting the old protocol's mapping: {}", id,
			           r.error().message());
		if (again.destroying)
			finish(id); // nothing of the new protocol was asked for
		else
			map_record(again);
	});
}

void Engine::on_mapped(int id, uint64_t attempt, Result<MapGrant> result) {
	auto it = records_.find(id);
	if (it == records_.end() || it->second->attempt != attempt)
		return;
	Record &rec = *it->second;
	rec.attempt = 0;
	if (rec.destroying) {
		if (result)
			rec.grant = std::move(result).value();
		else if (result.error() == Errc::timeout)
			rec.uncertain = true;
		unmap_record(rec);
		return;
	}
	if (!result) {
		const Error &e = result.error();
		if (e == Errc::cancelled) {
			if (rec.remap_pending) {
				rec.remap_pending = false;
				map_record(rec);
			}
			return;
		}
		++rec.failures;
		if (e == Errc::timeout)
			rec.uncertain = true;
		note_failure(rec, e);
		if (rec.state != State::Failure)
			emit(rec, State::Failure, e);
		if (is_protocol_failure(e)) {
			// The gateway stopped answering this protocol: find out again
			// what it speaks; the mapping follows the verdict.
			rec.grant.reset();
			if (!probing_)
				reprobe_after_map_failure();
			return;
		}
		map_later(rec, retry_delay(rec));
		return;
	}
	MapGrant grant = std::move(result).value();
	if (auto e =
	        not_live(rec.mapped_by ? rec.mapped_by->kind() : MappingProtocol::Unknown, grant)) {
		rec.grant.reset();
		++rec.failures;
		note_failure(rec, *e);
		if (rec.state != State::Failure)
			emit(rec, State::Failure, *e);
		map_later(rec, retry_delay(rec));
		return;
	}
	map_failure_backoff_ = std::chrono::milliseconds(0);
	if (rec.mapped_by && rec.mapped_by == active_)
		active_answered_ = true;
	if (grant.external_address.is_unspecified() && external_)
		grant.external_address = *external_;
	if (!grant.external_address.is_unspecified()) {
		if (net::is_double_nat(grant.external_address) &&
		    (!external_ || *external_ != grant.external_address))
			log_.warn("external address {} is private or carrier-grade: another NAT is in the way",
			          grant.external_address.to_string());
		external_ = grant.external_address;
	}
	const bool held = rec.grant && rec.state == State::Success;
	const bool changed = !rec.grant || rec.state != State::Success ||
	                     rec.grant->external_port != grant.external_port ||
	                     rec.grant->external_address != grant.external_address;
	rec.grant = grant;
	rec.granted_at = std::chrono::steady_clock::now();
	rec.uncertain = false;
	rec.failures = 0;
	rec.protocol = rec.mapped_by ? rec.mapped_by->kind() : MappingProtocol::Unknown;
	note_mapped(rec, held);
	if (changed)
		emit(rec, State::Success);
	else
		log_.info("mapping {}: renewed {}:{} via {} at gateway {} for {} s", rec.id,
		          grant.external_address.to_string(), grant.external_port, to_string(rec.protocol),
		          gateway_text(), grant.lifetime);
	if (rec.remap_pending) {
		rec.remap_pending = false;
		map_record(rec);
		return;
	}
	map_later(rec, renew_delay(grant.lifetime));
}

void Engine::map_later(Record &rec, std::chrono::milliseconds delay) {
	rec.timer.expires_after(delay);
	rec.timer.async_wait([this, id = rec.id, alive = alive_](std::error_code ec) {
		if (ec || !*alive)
			return;
		if (auto it = records_.find(id); it != records_.end())
			map_record(*it->second);
	});
}

// A refused map is asked again after 2, 4, 8 ... 256 s (at most the
// recheck period).
std::chrono::milliseconds Engine::retry_delay(const Record &rec) const {
	return std::min(settings_.recheck_period,
	                std::chrono::milliseconds(1000) * (1u << std::min(rec.failures, 8u)));
}

std::chrono::milliseconds Engine::renew_delay(uint32_t lifetime) {
	// A permanent lease (UPnP lease 0) is verified at each recheck instead.
	if (lifetime == 0)
		return settings_.recheck_period;
	// About half the lifetime, with jitter so that many mappings made at
	// once do not all renew in the same instant.
	std::uniform_int_distribution<int64_t> jitter(450, 550);
	const int64_t ms = int64_t(lifetime) * jitter(rng_);
	return std::chrono::milliseconds(std::max<int64_t>(ms, 1000));
}

void Engine::remove(int id) {
	auto it = records_.find(id);
	if (it == records_.end() || it->second->destroying)
		return;
	Record &rec = *it->second;
	rec.destroying = true;
	rec.timer.cancel();
	if (rec.attempt && rec.mapped_by && !rec.mapped_by->unmap_overtakes_map()) {
		if (!rec.mapped_by->withdraw_map(rec.request))
			return;      // on the wire: on_mapped deletes what it got
		rec.attempt = 0; // its cancelled completion goes unheard
	}
	unmap_record(rec);
}

// The request that deletes what rec holds, or may hold, on the router.
MapRequest Engine::deletion_of(const Record &rec) {
	MapRequest req = rec.request;
	if (rec.grant)
		req.external_port = rec.grant->external_port;
	req.lifetime = 0;
	req.held = rec.grant || rec.uncertain;
	return req;
}

void Engine::unmap_record(Record &rec) {
	ProtocolClient *client = rec.mapped_by;
	const bool held = rec.grant || rec.uncertain;
	const bool in_flight = rec.attempt != 0;
	// Without a grant, only a client that can name the mapping without
	// its external port (PCP, NAT-PMP: the nonce and internal port) can
	// delete it.
	const bool nameable = rec.grant || (client && client->unmap_overtakes_map());
	if (!client || rec.protocol == MappingProtocol::Direct || !(held || in_flight) || !nameable) {
		finish(rec.id);
		return;
	}
	const MapRequest req = deletion_of(rec);
	// A new attempt number: the map() it overtakes completes unheard.
	rec.attempt = next_attempt_++;
	client->unmap(req, [this, id = rec.id, alive = alive_](Result<void> r) {
		if (!*alive)
			return;
		if (!r && r.error() != Errc::cancelled)
			log_.info("mapping {}: delete failed: {}", id, r.error().message());
		finish(id);
	});
}

void Engine::finish(int id) {
	auto it = records_.find(id);
	if (it == records_.end())
		return;
	auto rec = std::move(it->second);
	records_.erase(it);
	emit(*rec, State::Destroyed);
	if (!shutting_down_ || !shutdown_done_)
		return;
	if (records_.empty()) {
		shutdown_timer_.cancel();
		auto done = std::move(shutdown_done_);
		shutdown_done_ = nullptr;
		done();
	} else {
		arm_shutdown_timer(); // progress: wait on for the rest
	}
}

void Engine::remap_all() {
	for (auto &[id, rec] : records_)
		if (!rec->destroying)
			map_record(*rec);
}

// A failed map() re-probes: the gateway may have dropped the protocol. But
// when the probe finds the protocol again and its map() fails again (a PCP
// server that answers ANNOUNCE but not MAP, a router that resets the
// connection on AddPortMapping), re-probing at once would loop hundreds of
// times a second: after the first, wait, doubling.
void Engine::reprobe_after_map_failure() {
	if (map_failure_backoff_.count() == 0) {
		map_failure_backoff_ = settings_.reprobe_backoff;
		begin_probe();
		return;
	}
	if (reprobe_timer_.expiry() > std::chrono::steady_clock::now())
		return; // one is already scheduled
	log_.debug("map failed again after a probe: probing again in {} ms",
	           map_failure_backoff_.count());
	schedule_reprobe(map_failure_backoff_);
	map_failure_backoff_ = std::min(map_failure_backoff_ * 2, settings_.recheck_period);
}

void Engine::on_gateway_restarted() {
	for (auto &[id, rec] : records_)
		if (rec->grant && !rec->destroying)
			rec->recreate_pending = true; // counted when the router grants it again
	// The first signal acts at once (a real reboot is recovered in one
	// round trip); more within the holdoff make one round at its end.
	const auto now = std::chrono::steady_clock::now();
	if (last_recreate_ && now < *last_recreate_ + settings_.restart_holdoff) {
		if (recreate_deferred_)
			return;
		recreate_deferred_ = true;
		log_.debug("gateway {} restarted again: re-creating at the end of the holdoff",
		           gateway_text());
		restart_timer_.expires_at(*last_recreate_ + settings_.restart_holdoff);
		restart_timer_.async_wait([this, alive = alive_](std::error_code ec) {
			if (ec || !*alive || shutting_down_)
				return;
			recreate_deferred_ = false;
			recreate_all();
		});
		return;
	}
	recreate_all();
}

void Engine::recreate_all() {
	last_recreate_ = std::chrono::steady_clock::now();
	log_.info("gateway {} restarted: re-creating {} mappings", gateway_text(), records_.size());
	// Re-add at once with what we know. A rebooted IGD that serves its
	// control URL elsewhere now fails these requests as unreachable, and
	// that failure re-probes (at the advertised LOCATION, no search).
	remap_all();
}

void Engine::on_external_address_changed(const asio::ip::address &address) {
	if (external_ && *external_ == address)
		return;
	log_.info("external address is now {}", address.to_string());
	external_ = address;
	for (auto &[id, rec] : records_) {
		if (rec->destroying || !rec->grant || rec->state != State::Success)
			continue;
		rec->grant->external_address = address;
		emit(*rec, State::Success);
	}
	remap_all();
}

void Engine::shutdown(std::function<void()> done) {
	shutting_down_ = true;
	restart_timer_.cancel();
	recheck_timer_.cancel();
	reprobe_timer_.cancel();
	verdict_timer_.cancel();
	if (records_.empty()) {
		done();
		return;
	}
	shutdown_done_ = std::move(done);
	shutdown_deadline_ = std::chrono::steady_clock::now() + settings_.cleanup_limit +
	                     settings_.cleanup_per_mapping * records_.size();
	arm_shutdown_timer();
	std::vector<int> ids;
	for (auto &[id, rec] : records_)
		ids.push_back(id);
	for (int id : ids)
		remove(id);
}

// Cleanup waits as long as deletions keep completing (a thousand mappings
// take a slow router tens of seconds), but gives up after cleanup_timeout
// without one, or cleanup_limit (+ cleanup_per_mapping each) in all.
void Engine::arm_shutdown_timer() {
	const auto idle_end = std::chrono::steady_clock::now() + settings_.cleanup_timeout;
	shutdown_timer_.expires_at(std::min(idle_end, shutdown_deadline_));
	shutdown_timer_.async_wait([this, alive = alive_](std::error_code ec) {
		if (ec || !*alive || !shutdown_done_)
			return;
		log_.warn("cleanup: {} mappings not confirmed deleted in time", records_.size());
		for (auto &c : clients_)
			c->cancel(); // completes every pending unmap with cancelled → finish()
		std::vector<int> left;
		for (auto &[id, rec] : records_)
			left.push_back(id);
		for (int id : left)
			finish(id);
	});
}

// The protocol that granted rec no longer answers: what the router granted
// still holds until its lease ends, but it can be neither renewed nor
// verified. It stays SUCCESS until then and is reported FAILURE at the end,
// never kept silently (a permanent UPnP lease cannot be verified: at once).
void Engine::protocol_gone(Record &rec) {
	const auto lease = std::chrono::seconds(rec.grant->lifetime);
	const auto end = rec.granted_at + lease;
	rec.timer.cancel();
	if (rec.grant->lifetime == 0 || std::chrono::steady_clock::now() >= end) {
		if (rec.state != State::Failure)
			emit(rec, State::Failure,
			     Error(Errc::timeout,
			           "the gateway no longer answers " + std::string(to_string(rec.protocol))));
		return;
	}
	rec.timer.expires_at(end);
	rec.timer.async_wait([this, id = rec.id, alive = alive_](std::error_code ec) {
		if (ec || !*alive)
			return;
		auto it = records_.find(id);
		if (it == records_.end())
			return;
		Record &r = *it->second;
		if (r.destroying || r.attempt || (active_ && r.mapped_by == active_))
			return;
		r.grant.reset();
		if (r.state != State::Failure)
			emit(r, State::Failure,
			     Error(Errc::timeout, "the lease ended and the gateway no longer answers"));
	});
}

} // namespace plum::engine
