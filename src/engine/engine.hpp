// The engine: the mapping registry, the prober and the recheck scheduler.
// engine.cpp finds the gateway (environment, probes, verdicts, recheck),
// mappings.cpp runs each mapping's lifecycle, report.cpp tells and counts.
//
// It lives on one io_context thread and is only ever touched from it; the
// API layer (src/api) posts calls onto that thread and receives every state
// change through the StateSink, also on that thread.
#pragma once

#include "engine/prober.hpp"
#include "engine/protocol.hpp"
#include "log/logger.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

namespace plum::engine {

struct Settings {
	std::chrono::milliseconds discover_timeout{10000};
	std::chrono::milliseconds mapping_timeout{10000};
	std::chrono::milliseconds recheck_period{300000};
	// Report FAILURE when no protocol answered by then (and keep trying):
	// within 2 s, with room for a loaded machine to run the timer late. A
	// gateway that showed life by then (an SSDP answer, any reply) gets
	// until mapping_timeout after its first sign instead.
	std::chrono::milliseconds first_verdict{1900};
	// How long a protocol that showed life may take to finish its probe
	// (a slow IGD: description, status and address, each up to a SOAP call).
	std::chrono::milliseconds live_probe_limit{30000};
	// How long after the probe starts a less preferred answer waits for a
	// more preferred protocol.
	std::chrono::milliseconds grace{250};
	// First delay before probing again after every protocol failed, or
	// after a probe found a protocol whose map() then failed as if it were
	// gone (timeout, unreachable, unsupported): doubling up to the recheck
	// period, back to none once a map succeeds.
	std::chrono::milliseconds reprobe_backoff{5000};
	// Re-creation rounds after restart signals (ANNOUNCE, a new epoch, a new
	// BOOTID): the first at once, then at most one per holdoff. Signals can
	// be forged by any LAN host; a flood of them costs one round per holdoff.
	std::chrono::milliseconds restart_holdoff{5000};
	// Bounds on cleanup's wait for the router to delete the mappings: the
	// longest wait for the next deletion to complete, and the whole wait,
	// which grows with the number of mappings (a busy miniupnpd deletes
	// one in 25-80 ms when it holds a thousand).
	std::chrono::milliseconds cleanup_timeout{5000};
	std::chrono::milliseconds cleanup_limit{60000};
	std::chrono::milliseconds cleanup_per_mapping{100};
	uint32_t lifetime = 7200; // seconds asked of the router
	// A public local address needs no mapping (Direct). An IPv6 engine turns
	// this off: a global IPv6 address is public, yet the router's firewall
	// still wants a pinhole (RFC 6887 §11, a PCP firewall without NAT).
	bool direct_when_public = true;
};

// What the engine learns from the kernel (or the config): the gateway and
// the local address that reaches it. One engine runs per address family:
// both are IPv4, or both IPv6 (the gateway often link-local, with a scope).
struct Environment {
	asio::ip::address gateway;
	asio::ip::address local;
	friend bool operator==(const Environment &, const Environment &) = default;
};

using EnvironmentSource = std::function<Result<Environment>()>;

// The protocol clients for an environment, most preferred first, and what
// must live exactly as long as they do (e.g. the ANNOUNCE listener that
// feeds them; released before the clients).
struct ClientSet {
	std::vector<std::unique_ptr<ProtocolClient>> clients;
	std::shared_ptr<void> companions;
};
using ClientFactory = std::function<ClientSet(const Environment &)>;

struct StateChange {
	int id = -1;
	State state = State::Pending;
	Mapping mapping;
	std::optional<Error> error; // why, for FAILURE
};
using StateSink = std::function<void(const StateChange &)>;

class Engine {
public:
	Engine(asio::io_context &io, Settings settings, EnvironmentSource environment,
	       ClientFactory factory, StateSink sink, Logger logger);
	~Engine();
	Engine(const Engine &) = delete;
	Engine &operator=(const Engine &) = delete;

	void add(int id, IpProtocol protocol, uint16_t internal_port, uint16_t external_port);
	// DESTROYING → (router deletes it) → DESTROYED through the sink.
	void remove(int id);
	// Removes every mapping (bounded by cleanup_timeout), then calls done.
	void shutdown(std::function<void()> done);

	MappingProtocol active_protocol() const noexcept;
	std::optional<asio::ip::address> external_address() const { return external_; }
	std::optional<Environment> environment() const { return env_; }
	// Counters of every protocol client this engine has had, and the history
	// of each live mapping (plum/stats.hpp).
	Stats stats() const;

private:
	struct Record;

	void ensure_started();
	void set_environment(const Environment &env);
	void begin_probe();
	void on_probe_decided(Prober::Verdict verdict);
	void schedule_reprobe(std::chrono::milliseconds delay);
	void schedule_recheck();
	void on_recheck();
	void on_first_verdict();
	void arm_verdict_timer(std::chrono::steady_clock::time_point when);

	void map_record(Record &rec);
	void switch_protocol(Record &rec);
	void on_mapped(int id, uint64_t attempt, Result<MapGrant> result);
	void unmap_record(Record &rec);
	static MapRequest deletion_of(const Record &rec);
	void finish(int id);
	void remap_all();
	void arm_shutdown_timer();
	void on_gateway_restarted();
	void recreate_all();
	void reprobe_after_map_failure();
	void protocol_gone(Record &rec);
	void on_external_address_changed(const asio::ip::address &address);

	void emit(Record &rec, State state, std::optional<Error> error = {});
	Mapping public_view(const Record &rec) const;
	std::chrono::milliseconds renew_delay(uint32_t lifetime);
	std::chrono::milliseconds retry_delay(const Record &rec) const;
	// map_record(rec) after delay (a renewal or a retry), unless it is gone.
	void map_later(Record &rec, std::chrono::milliseconds delay);
	void wire_events();
	// Statistics: a failed map (logged once per event), a granted one
	// (held: it renewed a mapping in place), clients about to be dropped.
	void note_failure(Record &rec, const Error &e);
	void note_mapped(Record &rec, bool held);
	void retire_counters();
	std::string gateway_text() const; // for the log: "192.168.1.1" or "?"

	asio::io_context &io_;
	Settings settings_;
	EnvironmentSource environment_source_;
	ClientFactory factory_;
	StateSink sink_;
	Logger log_;

	bool started_ = false;
	bool probing_ = false;
	// The active protocol granted a mapping since the current probe began.
	bool active_answered_ = false;
	bool verify_after_probe_ = false; // the recheck's probe: verify UPnP mappings too
	bool shutting_down_ = false;
	std::optional<Environment> env_;
	std::vector<std::unique_ptr<ProtocolClient>> clients_;
	std::shared_ptr<void> companions_;
	std::unique_ptr<Prober> prober_;
	ProtocolClient *active_ = nullptr; // one of clients_, or null
	bool direct_ = false;
	std::optional<asio::ip::address> external_;
	std::chrono::milliseconds backoff_{0};
	// The delay before the next re-probe caused by a failed map(); 0: at once.
	std::chrono::milliseconds map_failure_backoff_{0};
	std::optional<std::chrono::steady_clock::time_point> last_recreate_;
	bool recreate_deferred_ = false;
	asio::steady_timer restart_timer_;
	// Renewals, re-creations and the counters of clients no longer in use.
	std::map<MappingProtocol, ProtocolCounters> totals_;

	std::map<int, std::unique_ptr<Record>> records_;
	asio::steady_timer recheck_timer_;
	asio::steady_timer reprobe_timer_;
	asio::steady_timer verdict_timer_;
	asio::steady_timer shutdown_timer_;
	std::function<void()> shutdown_done_;
	std::chrono::steady_clock::time_point shutdown_deadline_;
	std::mt19937_64 rng_;
	uint64_t next_attempt_ = 1;
	// Guards handlers against running after the engine is gone.
	std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace plum::engine
