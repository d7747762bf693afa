// The engine's side that finds the gateway: the environment, the probe
// rounds and their verdict, the first verdict an application hears, and the
// periodic recheck. The mappings themselves: mappings.cpp; what is reported
// and counted: report.cpp.
#include "engine/engine.hpp"
#include "engine/record.hpp"

#include "net/address.hpp"

#include <algorithm>

namespace plum::engine {

namespace {

std::string describe(const std::optional<Error> &e) {
	return e ? e->message() : std::string();
}

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
	active_answered_ = false;
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
	if (!v.chosen && active_ && active_answered_) {
		// The probe began when the protocol in use failed (a router powered
		// off, say), and that protocol has granted a mapping since: the
		// router is back, and this verdict is older than what it said. Keep
		// the protocol; what lost its grant meanwhile is asked again.
		log_.info("{} answered again while the probe ran: kept", to_string(active_->kind()));
		for (auto &[id, rec] : records_)
			if (!rec->destroying && !rec->attempt && (!rec->grant || rec->state != State::Success))
				map_record(*rec);
		return;
	}
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

} // namespace plum::engine
