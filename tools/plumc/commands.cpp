// The one-shot commands: map, unmap, probe, local-address. They drive the
// protocol clients directly on an io_context of their own (no engine, no
// thread): one exchange with the gateway, bounded by the timeouts, then exit.
#include "commands.hpp"

#include "api/protocol_factory.hpp"
#include "engine/prober.hpp"
#include "net/address.hpp"
#include "nonce.hpp"
#include "output.hpp"
#include "status.hpp"

#include <asio/io_context.hpp>

#include <cstdio>
#include <memory>

namespace plum::plumc {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The grace a less preferred protocol gives a more preferred one, as the
// engine does (engine::Settings::grace).
constexpr milliseconds kGrace{250};
// Slack over a client's own deadline before plumc gives up on it: the
// clients bound their exchanges themselves; this only guards plumc.
constexpr milliseconds kSlack{1000};

// Runs handlers until done() or the time is up; false when it is not done.
template <class Pred> bool run_until(asio::io_context &io, Pred done, milliseconds limit) {
	const auto deadline = Clock::now() + limit;
	while (!done()) {
		const auto now = Clock::now();
		if (now >= deadline)
			return false;
		if (io.stopped())
			io.restart();
		if (io.run_one_for(deadline - now) == 0 && io.stopped())
			return done(); // nothing left that could make it happen
	}
	return true;
}

// What every one-shot command needs: the environment and the protocol
// clients for it. The io_context is declared first so that it outlives
// the clients (whose destructors post their cancellations onto it).
class Session {
public:
	explicit Session(const Options &options)
	    : options_(options), config_(make_config(options)),
	      logger_(config_.log_level, config_.log_callback), timeout_(effective_timeout(options)) {}

	~Session() {
		for (auto &c : clients_)
			c->cancel();
		clients_.clear();
	}
	Session(const Session &) = delete;
	Session &operator=(const Session &) = delete;

	// The gateway and local address, then the clients (none when the local
	// address is public: there is nothing to map).
	Result<void> open() {
		auto env = api::discover_environment(config_);
		if (!env)
			return env.error();
		env_ = *env;
		direct_ = net::is_public(env_.local);
		if (direct_)
			return {};
		auto factory = api::make_protocol_factory(io_, config_, timeout_, timeout_, logger_);
		engine::ClientSet set = factory(env_);
		// One exchange and exit: nobody stays to hear gateway announcements.
		set.companions.reset();
		clients_ = std::move(set.clients);
		if (clients_.empty())
			return Error(Errc::unsupported, "none of the requested protocols is available");
		return {};
	}

	// The engine's choice: every client probes at once, the most preferred
	// that answers wins (engine::Prober). The others are cancelled.
	// choose(), with the failure reported for `what`: null when nothing answered.
	engine::ProtocolClient *choose_or_report(const char *what) {
		auto chosen = choose();
		if (!chosen) {
			report_error(std::string(what) + ": no port-mapping protocol answered at gateway " +
			                 env().gateway.to_string(),
			             chosen.error());
			return nullptr;
		}
		return *chosen;
	}

	Result<engine::ProtocolClient *> choose() {
		std::vector<engine::ProtocolClient *> raw;
		for (auto &c : clients_)
			raw.push_back(c.get());
		auto verdict = std::make_shared<std::optional<engine::Prober::Verdict>>();
		engine::Prober prober(io_, raw, kGrace, timeout_,
		                      [verdict](engine::Prober::Verdict v) { *verdict = std::move(v); });
		prober.start();
		if (!run_until(
		        io_, [&] { return verdict->has_value(); }, timeout_ + kSlack))
			return Error(Errc::timeout, "no decision within the discover timeout");
		const auto &v = **verdict;
		// The caller says "no port-mapping protocol answered"; this says why.
		if (!v.chosen)
			return v.last_error.value_or(Error(Errc::timeout, "no answer"));
		for (size_t i = 0; i < clients_.size(); ++i)
			if (i != *v.chosen)
				clients_[i]->cancel();
		return clients_[*v.chosen].get();
	}

	engine::MapRequest request(uint32_t lifetime) const {
		engine::MapRequest r;
		r.protocol = options_.protocol;
		r.internal_port = options_.internal_port;
		r.external_port = options_.external_port.value_or(options_.internal_port);
		r.lifetime = lifetime;
		r.nonce = oneshot_nonce(env_.local.to_v4(), options_.protocol, options_.internal_port);
		r.description = "plumc";
		return r;
	}

	asio::io_context &io() { return io_; }
	const engine::Environment &env() const { return env_; }
	bool direct() const { return direct_; }
	milliseconds timeout() const { return timeout_; }
	std::vector<std::unique_ptr<engine::ProtocolClient>> &clients() { return clients_; }

private:
	asio::io_context io_;
	const Options &options_;
	Config config_;
	Logger logger_;
	milliseconds timeout_;
	engine::Environment env_;
	bool direct_ = false;
	std::vector<std::unique_ptr<engine::ProtocolClient>> clients_;
};

const char *command_name(Command c) {
	switch (c) {
	case Command::Map: return "map";
	case Command::Unmap: return "unmap";
	case Command::Probe: return "probe";
	case Command::LocalAddress: return "local-address";
	case Command::Status: return "status";
	case Command::None: break;
	}
	return "plumc";
}

std::string address_text(const asio::ip::address &a) {
	if (a.is_v6() && a.to_v6().is_v4_mapped())
		return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
	return a.to_string();
}

} // namespace

void report_error(std::string_view what, const Error &error) {
	const std::string line = "plumc: " + std::string(what) + ": " + printable(error.message());
	std::fprintf(stderr, "%s\n", line.c_str());
	std::fflush(stderr);
}

void print(const std::string &text) {
	std::fputs(text.c_str(), stdout);
	std::fflush(stdout);
}

int run_map_once(const Options &o) {
	const char *what = command_name(o.command);
	Session s(o);
	if (auto r = s.open(); !r) {
		report_error(what, r.error());
		return kExitFailure;
	}
	if (s.direct()) {
		print(format_map({o.protocol, o.internal_port, s.env().local.to_string(), o.internal_port,
		                  MappingProtocol::Direct, std::nullopt},
		                 o.json));
		return kExitOk;
	}
	engine::ProtocolClient *chosen = s.choose_or_report(what);
	if (!chosen)
		return kExitFailure;
	engine::ProtocolClient &client = *chosen;
	auto got = std::make_shared<std::optional<Result<engine::MapGrant>>>();
	client.map(s.request(o.lifetime.value_or(kDefaultLifetime)),
	           [got](Result<engine::MapGrant> r) { *got = std::move(r); });
	if (!run_until(
	        s.io(), [&] { return got->has_value(); }, s.timeout() + kSlack)) {
		report_error(what, Error(Errc::timeout, "no answer to the mapping request"));
		return kExitFailure;
	}
	const Result<engine::MapGrant> &r = **got;
	if (!r) {
		report_error(what, r.error());
		return kExitFailure;
	}
	print(format_map({o.protocol, o.internal_port, address_text(r->external_address),
	                  r->external_port, client.kind(), r->lifetime},
	                 o.json));
	return kExitOk;
}

int run_unmap(const Options &o) {
	const char *what = command_name(o.command);
	Session s(o);
	if (auto r = s.open(); !r) {
		report_error(what, r.error());
		return kExitFailure;
	}
	const uint16_t external = o.external_port.value_or(o.internal_port);
	if (s.direct()) {
		print(
		    format_unmap({o.protocol, o.internal_port, external, MappingProtocol::Direct}, o.json));
		return kExitOk;
	}
	engine::ProtocolClient *chosen = s.choose_or_report(what);
	if (!chosen)
		return kExitFailure;
	engine::ProtocolClient &client = *chosen;
	auto got = std::make_shared<std::optional<Result<void>>>();
	client.unmap(s.request(0), [got](Result<void> r) { *got = std::move(r); });
	if (!run_until(
	        s.io(), [&] { return got->has_value(); }, s.timeout() + kSlack)) {
		report_error(what, Error(Errc::timeout, "no answer to the delete request"));
		return kExitFailure;
	}
	if (const Result<void> &r = **got; !r) {
		report_error(what, r.error());
		return kExitFailure;
	}
	print(format_unmap({o.protocol, o.internal_port, external, client.kind()}, o.json));
	return kExitOk;
}

int run_probe(const Options &o) {
	const char *what = command_name(o.command);
	Session s(o);
	if (auto r = s.open(); !r) {
		report_error(what, r.error());
		return kExitFailure;
	}
	ProbeReport report;
	report.gateway = s.env().gateway.to_string();
	report.local_address = s.env().local.to_string();
	if (s.direct()) {
		report.direct = true;
		report.chosen = MappingProtocol::Direct;
		report.external_address = s.env().local;
		print(format_probe(report, o.json));
		return kExitOk;
	}

	// Every client at once; each result lands in its slot. The slots are
	// shared with the handlers, which may outlive this frame (cancelled).
	auto &clients = s.clients();
	auto entries = std::make_shared<std::vector<ProbeEntry>>(clients.size());
	auto done = std::make_shared<size_t>(0);
	const auto start = Clock::now();
	for (size_t i = 0; i < clients.size(); ++i) {
		(*entries)[i].protocol = clients[i]->kind();
		clients[i]->probe([entries, done, start, i](Result<engine::ProbeResult> r) {
			ProbeEntry &e = (*entries)[i];
			e.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
			if (r)
				e.result = std::move(r).value();
			else
				e.error = r.error();
			++*done;
		});
	}
	// The discover timeout bounds the whole round, as in the engine's prober.
	(void)run_until(
	    s.io(), [&] { return *done == clients.size(); }, s.timeout());
	std::vector<engine::ProbeOutcome> outcomes;
	for (auto &e : *entries) {
		if (!e.result && !e.error) {
			e.error = Error(Errc::timeout, "no answer within the discover timeout");
			e.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
		}
		outcomes.push_back(e.result ? engine::ProbeOutcome::Answered
		                            : engine::ProbeOutcome::Failed);
	}
	report.entries = *entries;
	// Every outcome is final now, so the decision is the engine's.
	const engine::ProbeDecision d = engine::decide_probe(outcomes, true);
	if (d.kind == engine::ProbeDecision::Kind::Choose) {
		report.chosen = report.entries[d.index].protocol;
		if (!report.entries[d.index].result->external_address.is_unspecified())
			report.external_address = report.entries[d.index].result->external_address;
	}
	// PCP learns the external address only from a MAP: take another's.
	if (!report.external_address)
		for (const auto &e : report.entries)
			if (e.result && !e.result->external_address.is_unspecified()) {
				report.external_address = e.result->external_address;
				break;
			}
	if (report.external_address)
		report.external_address = asio::ip::make_address(address_text(*report.external_address));
	print(format_probe(report, o.json));
	return report.chosen ? kExitOk : kExitFailure;
}

int run_local_address(const Options &o) {
	auto env = api::discover_environment(make_config(o));
	if (!env) {
		report_error(command_name(o.command), env.error());
		return kExitFailure;
	}
	print(format_local_address(env->local.to_string(), o.json));
	return kExitOk;
}

int run_status(const Options &o) {
	print(format_status(read_status(status_dir()), o.json));
	return kExitOk;
}

} // namespace plum::plumc
