// The UPnP-IGD client (UPnP Device Architecture 1.1; WANIPConnection:1/:2,
// WANPPPConnection:1): the third ProtocolClient, after PCP and NAT-PMP.
//
//   probe  SSDP M-SEARCH (ssdp_search.hpp), answered by the gateway only
//          → GET the description at LOCATION (same host as the responder)
//          → parse_description → with several WAN*Connection services, the
//            first whose GetStatusInfo says Connected (else the first)
//          → GetExternalIPAddress. Bounded as a whole by discover_timeout.
//   map    AddPortMapping (remote host wildcard, our own LAN address as the
//          internal client). Router refusals that have a known way out are
//          retried within the same map():
//            725 OnlyPermanentLeases   lease 0, remembered for later maps
//            718 ConflictInMappingEntry IGDv2: AddAnyPortMapping; IGDv1: a
//                                       few pseudo-random external ports
//            724 SamePortValuesRequired external = internal port
//            716 / 727 wildcard issues  once more with external = internal
//          A renewal is the same AddPortMapping again (miniupnpd refreshes
//          the lease of a mapping held by the same client and port).
//   unmap  DeletePortMapping; 714 NoSuchEntryInArray means already gone.
//
// SOAP requests go one per TCP connection (http_client.hpp), at most
// max_connections at a time, the rest in FIFO order (a probe's requests
// first): miniupnpd serves one request at a time, so opening more
// connections only queues them there.
#pragma once

#include "engine/confirm_gate.hpp"
#include "engine/protocol.hpp"
#include "http/http_client.hpp"
#include "log/logger.hpp"
#include "upnp/description.hpp"
#include "upnp/soap.hpp"
#include "upnp/ssdp.hpp"
#include "upnp/ssdp_search.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/udp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace plum::upnp {

struct UpnpSettings {
	// The router: SSDP answers are believed from this address only.
	asio::ip::address_v4 gateway;
	// NewInternalClient: our own LAN address, never another host's.
	asio::ip::address_v4 local_address;
	// Production: 239.255.255.250:1900 and gateway:1900; tests: 127.0.0.1:<port>.
	std::vector<asio::ip::udp::endpoint> ssdp_targets;
	// Finding the gateway (SSDP), and the probe's later requests as a whole
	// unless one needs longer; each SOAP request gets at least the mapping
	// timeout, and never under 5 s (it supersedes http_limits.total_timeout).
	std::chrono::milliseconds discover_timeout{10000};
	std::chrono::milliseconds mapping_timeout{10000};
	// SOAP requests in flight (one request per TCP connection).
	size_t max_connections = 4;
	http::Limits http_limits;
};

class UpnpClient final : public engine::ProtocolClient {
public:
	// Conflict retries on an IGDv1 service (718): other external ports tried.
	static constexpr int kMaxConflictTries = 4;
	// WANIPConnection:2 §2.3.10: NewLeaseDuration is 0..604800 (one week).
	static constexpr uint32_t kMaxLease = 604800;

	UpnpClient(asio::io_context &io, UpnpSettings settings, const Logger &logger);
	// Pending operations complete with Errc::cancelled (posted).
	~UpnpClient() override;
	UpnpClient(const UpnpClient &) = delete;
	UpnpClient &operator=(const UpnpClient &) = delete;

	MappingProtocol kind() const noexcept override { return MappingProtocol::Upnp; }
	void set_events(engine::ProtocolEvents events) override { events_ = std::move(events); }
	void probe(std::function<void(Result<engine::ProbeResult>)> done) override;
	void map(const engine::MapRequest &request,
	         std::function<void(Result<engine::MapGrant>)> done) override;
	void unmap(const engine::MapRequest &request, std::function<void(Result<void>)> done) override;
	void cancel() override;
	// A map() whose SOAP requests are all still queued (none sent) is
	// dropped: cleanup right after creating many mappings sends nothing
	// for the ones still waiting for a connection.
	bool withdraw_map(const engine::MapRequest &request) override;
	// SSDP searches and HTTP requests sent, timeouts, each answer's outcome.
	engine::ProtocolCounters counters() const override { return counters_; }

	// An SSDP NOTIFY from the gateway (notify_listener.hpp). Only the IGD's
	// own count (its USN names one of the UDNs of the probed description,
	// or the device that answered the search): another UPnP device on the
	// router is not the IGD. The first ssdp:alive after a ssdp:byebye, or
	// with a BOOTID.UPNP.ORG other than the last one seen, tells of a reboot;
	// being multicast, anyone may forge it, so when we hold mappings it is
	// confirmed over TCP first (GetSpecificPortMappingEntry of one of them:
	// gone, or the device unreachable, confirms) before
	// events().gateway_restarted. Its LOCATION is where the next probe
	// looks first; should that fail, the probe searches.
	void observe_advertisement(const SsdpMessage &message);
	// Confirming requests sent after an advertisement.
	unsigned long confirmations() const noexcept { return confirmations_; }

	// For `plumc probe` and tests: the chosen device and service, once probed.
	const std::optional<Description> &description() const noexcept { return description_; }
	const Service *service() const noexcept;
	// The last GetExternalIPAddress answer.
	std::optional<asio::ip::address_v4> external_address() const { return external_; }
	// True once the router answered 725: every later lease is 0.
	bool permanent_leases_only() const noexcept { return permanent_only_; }
	// SOAP requests sent and not answered / waiting for a connection slot.
	size_t in_flight() const noexcept { return in_flight_.size(); }
	size_t queued() const noexcept { return queue_.size(); }

private:
	struct Op;
	template <class T> struct Pending;
	struct ProbeOp;
	struct MapOp;
	struct SoapJob;

	using SoapDone = std::function<void(Result<SoapResponse>)>;

	// Registers an operation so that cancel() can reach it.
	void track(const std::shared_ptr<Op> &op);
	// Completes op once (posted), forgets it and drops its SOAP requests.
	template <class T> void complete(const std::shared_ptr<Pending<T>> &op, Result<T> result);
	void drop_jobs(uint64_t op_id);

	// Queues one SOAP request for op (urgent: at the front); then runs only
	// if op is still pending.
	void soap(const std::shared_ptr<Op> &op, const Service &service, std::string action,
	          SoapRequest request, std::chrono::milliseconds timeout, SoapDone then,
	          bool urgent = false);
	void pump();
	void on_soap_reply(const std::shared_ptr<SoapJob> &job, Result<http::Response> reply);

	// Probe steps.
	void probe_search(const std::shared_ptr<ProbeOp> &op);
	// A probe of the advertised LOCATION failed: search instead. False when
	// the probe was searching already.
	bool probe_fall_back(const std::shared_ptr<ProbeOp> &op, const Error &why);
	void probe_ssdp_done(const std::shared_ptr<ProbeOp> &op, Result<SsdpHit> hit);
	void probe_description_done(const std::shared_ptr<ProbeOp> &op, const http::Url &location,
	                            Result<http::Response> reply);
	void probe_next_status(const std::shared_ptr<ProbeOp> &op);
	void probe_external_ip(const std::shared_ptr<ProbeOp> &op);
	// What a request to the gateway may take (mapping_timeout, at least 5 s).
	std::chrono::milliseconds call_timeout() const;
	std::chrono::milliseconds probe_call_time(const std::shared_ptr<ProbeOp> &op);
	void arm_probe_deadline(const std::shared_ptr<ProbeOp> &op,
	                        std::chrono::steady_clock::time_point when);

	// Map steps.
	void map_add(const std::shared_ptr<MapOp> &op);
	void map_add_any(const std::shared_ptr<MapOp> &op);
	void map_refused(const std::shared_ptr<MapOp> &op, const Error &error, bool any);
	void map_granted(const std::shared_ptr<MapOp> &op, uint16_t external_port);
	uint16_t random_port(const MapOp &op);

	void learn_external(const asio::ip::address_v4 &address);
	bool is_igd_usn(const std::string &usn) const;
	void confirm_reboot(std::optional<SsdpHit> advertised);
	void reboot_confirmed(std::optional<SsdpHit> advertised);
	// A request that got no answer: a timeout or what the network said.
	void count_failure(const Error &e);
	std::string gateway_name() const;

	asio::io_context &io_;
	UpnpSettings settings_;
	Logger logger_;
	engine::ProtocolEvents events_;

	std::optional<Description> description_;
	size_t service_index_ = 0;
	std::optional<asio::ip::address_v4> external_;
	bool permanent_only_ = false;
	engine::ProtocolCounters counters_;
	std::optional<uint32_t> boot_id_; // the device's BOOTID.UPNP.ORG, once seen
	bool said_byebye_ = false;        // since the last ssdp:alive
	// The LOCATION of the advertisement that announced a reboot: the next
	// probe fetches it directly instead of searching (and waiting out the
	// device's random answer delay) again.
	std::optional<SsdpHit> advertised_;
	// The IGD's device UUIDs ("uuid:..."), from its search answer and UDNs.
	std::vector<std::string> device_uuids_;
	// What we hold on the router (protocol name, external port): one of
	// them confirms or refutes a reboot.
	std::set<std::pair<std::string, uint16_t>> held_;
	engine::ConfirmGate confirm_;
	unsigned long confirmations_ = 0;

	uint64_t next_op_id_ = 1;
	std::map<uint64_t, std::shared_ptr<Op>> ops_;
	std::deque<std::shared_ptr<SoapJob>> queue_;
	std::vector<std::shared_ptr<SoapJob>> in_flight_;
	std::minstd_rand random_;

	// Continuations check this before touching the client.
	std::shared_ptr<char> alive_ = std::make_shared<char>();
};

} // namespace plum::upnp
