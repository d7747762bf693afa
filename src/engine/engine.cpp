#include "engine/engine.hpp"

#include "net/address.hpp"

#include <algorithm>

namespace plum::engine {

struct Engine::Record {
	Record(asio::io_context &io, int id) : id(id), timer(io) {}
	int id;
	MapRequest request;
	State state = State::Pending;
	MappingProtocol protocol = MappingProtocol::Unknown;
	std::optional<MapGrant> grant;
	ProtocolClient *mapped_by = nullptr; // the client that holds the grant
	uint64_t attempt = 0;                // the map() in flight, 0 when none
	bool destroying = false;
	bool remap_pending = false; // something asked for a re-map while one was in flight
	// A map() went unanswered (timed out): the router may hold the mapping
	// even without a grant, so a destroy must still delete it.
	bool uncertain = false;
	unsigned failures = 0;
	asio::steady_timer timer; // renewal or retry
	// Its history, for stats().
	std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
	uint64_t renewals = 0;
	uint64_t recreations = 0;
	uint64_t failed_attempts = 0;
	std::string last_error;
	std::chrono::steady_clock::time_point granted_at; // of the current grant
	bool recreate_pending = false; // the gateway restarted while we held it
};

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

std::string describe(const std::optional<Error> &e) { return e ? e->message() : std::string(); }

} // namespace

Engine::Engine(asio::io_context &io, Settings settings, EnvironmentSource environment,
               ClientFactory factory, StateSink sink, Logger logger)
    : io_(io), settings_(settings), environment_source_(std::move(environment)),
      factory_(std::move(factory)), sink_(std::move(sink)), log_(std::move(logger)),
      restart_timer_(io), recheck_timer_(io), reprobe_timer_(io), verdict_timer_(io),
      shutdown_timer_(io), rng_(std::random_device{}()) {}

Engine::~Engine() {
	*alive_ = false;
	prober_.reset();
	companions_.reset();
	for (auto &c : clients_)
		c->cancel();
}

MappingProtocol Engine::active_protocol() const noexcept {
	if (direct_)
		return MappingProtocol::Direct;
	return active_ ? active_->kind() : MappingProtocol::Unknown;
}

// --- environment and probing ---------------------------------------------

void Engine::ensure_started() {
	if (started_)
		return;
	started_ = true;
	auto env = environment_source_();
	if (!env) {
		log_.warn("no gateway: {}", env.error().message());
		// Nothing to probe yet: report at the first verdict and look again later.
		arm_verdict_timer(std::chrono::steady_clock::now() + settings_.first_verdict);
		schedule_reprobe(settings_.reprobe_backoff);
		return;
	}
	set_environment(*env);
	schedule_recheck();
}

void Engine::set_environment(const Environment &env) {
	for (auto &c : clients_)
		c->cancel();
	retire_counters();
	// Whatever the old clients held or had in flight belongs to the old
	// network: forget it (their completions will not come back).
	std::vector<int> gone;
	for (auto &[id, rec] : records_) {
		rec->attempt = 0;
		rec->mapped_by = nullptr;
		rec->grant.reset();
		if (rec->destroying)
			gone.push_back(id);
	}
	for (int id : gone)
		finish(id);
	prober_.reset();
	probing_ = false;
	active_ = nullptr;
	env_ = env;
	direct_ = settings_.direct_when_public && net::is_public(env.local);
	if (direct_) {
		log_.info("local address {} is public: no mapping needed", env.local.to_string());
		companions_.reset();
		clients_.clear();
		external_ = env.local;
		remap_all();
		return;
	}
	log_.debug("gateway {}, local address {}", env.gateway.to_string(), env.local.to_string());
	companions_.reset();
	auto set = factory_(env);
	clients_ = std::move(set.clients);
	companions_ = std::move(set.companions);
	wire_events();
	begin_probe();
}

void Engine::wire_events() {
	for (size_t i = 0; i < clients_.size(); ++i) {
		ProtocolClient *client = clients_[i].get();
		ProtocolEvents ev;
		// The prober's list is clients_ in order: the same index.
		ev.gateway_answered = [this, i, alive = alive_] {
			if (*alive && prober_ && probing_)
				prober_->note_alive(i);
		};
		ev.gateway_restarted = [this, client, alive = alive_] {
			if (*alive && client == active_)
				on_gateway_restarted();
		};
		ev.external_address_changed = [this, client, alive = alive_](const asio::ip::address &a) {
			if (*alive && client == active_)
				on_external_address_changed(a);
		};
		client->set_events(std::move(ev));
	}
}

void Engine::begin_probe() {
	if (shutting_down_ || direct_)
		return;
	probing_ = true;
	reprobe_timer_.cancel();
	std::vector<ProtocolClient *> list;
	for (auto &c : clients_)
		list.push_back(c.get());
	// A fresh prober per round; the previous one (if any) is dropped only
	// here, never from inside its own callback.
	prober_ = std::make_unique<Prober>(
	    io_, std::move(list), settings_.grace, settings_.discover_timeout,
	    [this, alive = alive_](Prober::Verdict v) {
		    if (*alive)
			    on_probe_decided(std::move(v));
	    },
	    settings_.live_probe_limit);
	if (!active_)
		arm_verdict_timer(std::chrono::steady_clock::now() +
		                  std::min(settings_.first_verdict, settings_.discover_timeout));
	prober_->start();
}

void Engine::on_probe_decided(Prober::Verdict v) {
	probing_ = false;
	if (shutting_down_)
		return;
	if (!v.chosen) {
		log_.info("no port-mapping protocol answered{}{}", v.last_error ? ": " : "",
		          describe(v.last_error));
		active_ = nullptr;
		verdict_timer_.cancel();
		Error why = v.last_error.value_or(Error(Errc::timeout));
		for (auto &[id, rec] : records_) {
			if (rec->destroying || rec->attempt)
				continue;
			if (rec->mapped_by && rec->grant) {
				protocol_gone(*rec); // kept while its lease runs, then reported
				continue;
			}
			if (rec->state != State::Failure)
				emit(*rec, State::Failure,
				     Error(why.code(), "no PCP, NAT-PMP or UPnP gateway answered"));
		}
		backoff_ = backoff_.count() ? std::min(backoff_ * 2, settings_.recheck_period)
		                            : settings_.reprobe_backoff;
		schedule_reprobe(backoff_);
		return;
	}
	backoff_ = std::chrono::milliseconds(0);
	verdict_timer_.cancel();
	ProtocolClient *chosen = clients_[*v.chosen].get();
	const bool changed = chosen != active_;
	active_ = chosen;
	for (auto &c : clients_)
		if (c.get() != chosen)
			c->cancel();
	if (v.result && !v.result->external_address.is_unspecified()) {
		if (external_ && *external_ != v.result->external_address)
			on_external_address_changed(v.result->external_address);
		external_ = v.result->external_address;
		if (net::is_double_nat(*external_))
			log_.warn("external address {} is private or carrier-grade: another NAT is in the way",
			          external_->to_string());
	}
	if (changed)
		log_.info("using {} via gateway {}", to_string(chosen->kind()),
		          env_ ? env_->gateway.to_string() : std::string("?"));
	// UPnP tells no one when the router restarts and forgets its table: a
	// recheck re-adds every mapping (AddPortMapping of what we hold is
	// idempotent), which also verifies permanent leases. PCP and NAT-PMP
	// need not: the recheck's probe carries the epoch that reveals a restart.
	const bool verify = verify_after_probe_ && chosen->kind() == MappingProtocol::Upnp;
	verify_after_probe_ = false;
	for (auto &[id, rec] : records_) {
		if (rec->destroying || rec->attempt)
			continue;
		if (changed || verify || !rec->grant || rec->state != State::Success)
			map_record(*rec);
	}
}

void Engine::arm_verdict_timer(std::chrono::steady_clock::time_point when) {
	verdict_timer_.expires_at(when);
	verdict_timer_.async_wait([this, alive = alive_](std::error_code ec) {
		if (!ec && *alive)
			on_first_verdict();
	});
}

// The early FAILURE is for a gateway where nothing answered. Applications
// (and bindings that resolve a promise with the first verdict) act on it,
// so a gateway that showed life gets until mapping_timeout after that to
// finish its exchange before anything is reported.
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
			emit(rec, State::Failure, Error(Errc::timeout, "the gateway no longer answers " +
			                                                   std::string(to_string(rec.protocol))));
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
			emit(r, State::Failure, Error(Errc::timeout, "the lease ended and the gateway no longer answers"));
	});
}

void Engine::on_first_verdict() {
	if (active_ || direct_ || shutting_down_)
		return;
	const auto alive_since = probing_ && prober_ ? prober_->first_alive() : std::nullopt;
	if (alive_since) {
		const auto until = *alive_since + settings_.mapping_timeout;
		if (std::chrono::steady_clock::now() < until)
			return arm_verdict_timer(until);
	}
	const Error why = alive_since
	                      ? Error(Errc::timeout, "the gateway answered, but no mapping in time")
	                      : Error(Errc::timeout, "no gateway answered yet");
	for (auto &[id, rec] : records_)
		if (!rec->destroying && rec->state == State::Pending)
			emit(*rec, State::Failure, why);
}

void Engine::schedule_reprobe(std::chrono::milliseconds delay) {
	reprobe_timer_.expires_after(delay);
	reprobe_timer_.async_wait([this, alive = alive_](std::error_code ec) {
		if (ec || !*alive || shutting_down_)
			return;
		if (!env_) {
			auto env = environment_source_();
			if (env) {
				set_environment(*env);
				schedule_recheck();
			} else {
				backoff_ = std::min(std::max(backoff_ * 2, settings_.reprobe_backoff),
				                    settings_.recheck_period);
				schedule_reprobe(backoff_);
			}
			return;
		}
		begin_probe();
	});
}

void Engine::schedule_recheck() {
	recheck_timer_.expires_after(settings_.recheck_period);
	recheck_timer_.async_wait([this, alive = alive_](std::error_code ec) {
		if (!ec && *alive && !shutting_down_)
			on_recheck();
	});
}

void Engine::on_recheck() {
	schedule_recheck();
	auto env = environment_source_();
	if (env && (!env_ || !(*env == *env_))) {
		log_.info("network changed: gateway {}, local address {}", env->gateway.to_string(),
		          env->local.to_string());
		set_environment(*env);
		return;
	}
	if (!direct_) {
		verify_after_probe_ = true;
		begin_probe();
	}
}

// --- mappings --------------------------------------------------------------

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
	active_->map(rec.request, [this, id = rec.id, attempt = rec.attempt,
	                           alive = alive_](Result<MapGrant> r) {
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
			log_.debug("mapping {}: deleting the old protocol's mapping: {}", id, r.error().message());
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
		auto delay = std::min(settings_.recheck_period,
		                      std::chrono::milliseconds(1000) * (1u << std::min(rec.failures, 8u)));
		rec.timer.expires_after(delay);
		rec.timer.async_wait([this, id, alive = alive_](std::error_code ec) {
			if (ec || !*alive)
				return;
			if (auto it2 = records_.find(id); it2 != records_.end())
				map_record(*it2->second);
		});
		return;
	}
	MapGrant grant = std::move(result).value();
	if (auto e = not_live(rec.mapped_by ? rec.mapped_by->kind() : MappingProtocol::Unknown, grant)) {
		rec.grant.reset();
		++rec.failures;
		note_failure(rec, *e);
		if (rec.state != State::Failure)
			emit(rec, State::Failure, *e);
		rec.timer.expires_after(std::min(
		    settings_.recheck_period, std::chrono::milliseconds(1000) * (1u << std::min(rec.failures, 8u))));
		rec.timer.async_wait([this, id, alive = alive_](std::error_code ec) {
			if (ec || !*alive)
				return;
			if (auto it2 = records_.find(id); it2 != records_.end())
				map_record(*it2->second);
		});
		return;
	}
	map_failure_backoff_ = std::chrono::milliseconds(0);
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
	rec.timer.expires_after(renew_delay(grant.lifetime));
	rec.timer.async_wait([this, id, alive = alive_](std::error_code ec) {
		if (ec || !*alive)
			return;
		if (auto it2 = records_.find(id); it2 != records_.end())
			map_record(*it2->second);
	});
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
			return; // on the wire: on_mapped deletes what it got
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

// --- reporting -------------------------------------------------------------

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
