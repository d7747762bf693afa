// plum: the C++ API.
//
// plum::Client is one engine: one internal thread, its own mappings. The
// free functions (plum::init, plum::create_mapping, ...) drive one default
// client, with the semantics of libplum's API.
#pragma once

#include "plum/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace plum {

enum class IpProtocol { Tcp = 0, Udp = 1 };
enum class State { Destroyed = 0, Pending = 1, Success = 2, Failure = 3, Destroying = 4 };
enum class MappingProtocol { Unknown = 0, Pcp = 1, NatPmp = 2, Upnp = 3, Direct = 4 };
enum class LogLevel { Verbose = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Fatal = 5, None = 6 };

PLUM_CXX_EXPORT std::string_view to_string(IpProtocol p) noexcept;
PLUM_CXX_EXPORT std::string_view to_string(State s) noexcept;
PLUM_CXX_EXPORT std::string_view to_string(MappingProtocol p) noexcept;
PLUM_CXX_EXPORT std::string_view to_string(LogLevel l) noexcept;

// Which protocols the engine may use (a bit mask).
enum ProtocolFlags : unsigned {
	kUsePcp = 0x1,
	kUseNatPmp = 0x2,
	kUseUpnp = 0x4,
	kUseAll = 0x7,
};

// Which address families each mapping is made in (a bit mask).
//   kIPv4  (the default, as libplum) a port mapping on the IPv4 NAT, by PCP,
//          NAT-PMP or UPnP-IGD.
//   kIPv6  a pinhole in the router's IPv6 firewall for our own global IPv6
//          address, by PCP only (RFC 6887 §11: a firewall without NAT).
// With both, each mapping id is made in both families: the mapping is
// SUCCESS when at least one family is mapped, FAILURE when none is, and
// DESTROYED once both are gone (see Mapping for the addresses).
enum AddressFamilies : unsigned {
	kIPv4 = 0x1,
	kIPv6 = 0x2,
	kIPv4AndIPv6 = 0x3,
};

struct Config {
	LogLevel log_level = LogLevel::None;
	// Receives every log line at or above log_level; empty means stderr.
	std::function<void(LogLevel, std::string_view)> log_callback;

	// Zero means the default: 10 s, 10 s, 300 s.
	std::chrono::milliseconds discover_timeout{0};
	std::chrono::milliseconds mapping_timeout{0};
	std::chrono::milliseconds recheck_period{0};

	// What the world decides, pinned (tests, labs, unusual networks).
	std::string gateway_address;  // IPv4; empty: the default route's gateway
	std::string local_address;    // IPv4; empty: the address that routes to the gateway
	uint16_t pcp_port = 0;        // PCP and NAT-PMP server port; 0: 5351
	uint16_t announce_port = 0;   // PCP ANNOUNCE / NAT-PMP notices; 0: 5350
	std::string ssdp_address;     // empty: 239.255.255.250 and the gateway, unicast
	uint16_t ssdp_port = 0;       // 0: 1900
	unsigned protocols = kUseAll; // ProtocolFlags; 0 means all

	// The lifetime asked of the router for each mapping (renewed at about
	// half of it); 0: 7200 s.
	std::chrono::seconds lifetime{0};

	unsigned families = kIPv4; // AddressFamilies; 0 means kIPv4
	// The IPv6 PCP server, usually the default router: often link-local, so
	// "fe80::1%eth0" (the scope names the interface). Empty: the default
	// route's gateway from /proc/net/ipv6_route.
	std::string gateway_address6;
	// The IPv6 address to open pinholes to. Empty: the global address of
	// the interface that reaches the gateway.
	std::string local_address6;
};

struct Mapping {
	IpProtocol protocol = IpProtocol::Tcp;
	MappingProtocol mapping_protocol = MappingProtocol::Unknown;
	uint16_t internal_port = 0;
	uint16_t external_port = 0;
	// The IPv4 external address when IPv4 is mapped; else the IPv6 one (with
	// kIPv6 alone, or when only the IPv6 family succeeded). mapping_protocol
	// and external_port belong to the same family.
	std::string external_host;
	// The IPv6 pinhole's address (our own), when the IPv6 family is mapped.
	std::string external_host6;
};

struct MappingResult {
	int id = -1;
	Mapping mapping;
};

// Called on the engine's thread on every state change after the first
// result (SUCCESS with a new address, FAILURE, SUCCESS again, DESTROYED).
// It may call the API; it must not block for long.
using StateCallback = std::function<void(int id, State state, const Mapping &mapping)>;

struct MappingStatus {
	State state = State::Destroyed;
	Mapping mapping;
};

using namespace std::chrono_literals;

struct Stats; // plum/stats.hpp

class PLUM_CXX_EXPORT Client {
public:
	Client();
	~Client(); // cleans up when still running
	Client(const Client &) = delete;
	Client &operator=(const Client &) = delete;

	// Starts the engine thread. Fails when already running.
	Result<void> init(Config config = {});
	// Removes every mapping from the router, pending ones included, then
	// stops the thread. It waits while deletions keep completing: at most
	// 5 s (or the mapping timeout) without one, 60 s + 0.1 s per mapping in
	// all. Fails when not running.
	Result<void> cleanup();
	bool running() const noexcept;

	// Starts a mapping and returns its id at once (libplum's model); the
	// callback sees every state change, starting with the first result.
	Result<int> start_mapping(IpProtocol protocol, uint16_t internal_port,
	                          uint16_t external_port = 0, StateCallback on_state_change = {});

	// Completes with the first result: SUCCESS, FAILURE, or a timeout error
	// after `timeout` (the mapping then keeps trying in the background until
	// destroyed). on_state_change sees the changes after that first result.
	std::future<Result<MappingResult>> create_mapping(IpProtocol protocol, uint16_t internal_port,
	                                                  uint16_t external_port = 0,
	                                                  std::chrono::milliseconds timeout = 30s,
	                                                  StateCallback on_state_change = {});

	// Asynchronous: DESTROYING until the router has removed it, then
	// DESTROYED. Unknown or repeated ids are a no-op.
	void destroy_mapping(int id);
	// True until the mapping is being destroyed.
	bool has_mapping(int id) const;
	std::optional<MappingStatus> query_mapping(int id) const;

	// The address of the interface that routes to the gateway.
	Result<std::string> get_local_address() const;
	// The gateway's external address when it is private or carrier-grade
	// (100.64.0.0/10): a second NAT is in the way. Empty when not known or
	// when the external address is public.
	std::optional<std::string> double_nat_address() const;

	// The engine's counters and every live mapping's history (stats.hpp),
	// read on the engine's thread. Waits at most 2 s for it; empty when the
	// client is not running or the engine did not answer in time.
	Stats stats() const;

	struct Impl;

private:
	std::unique_ptr<Impl> impl_;
};

// The default client, with libplum's global API.
PLUM_CXX_EXPORT Result<void> init(Config config = {});
PLUM_CXX_EXPORT Result<void> cleanup();
PLUM_CXX_EXPORT std::future<Result<MappingResult>>
create_mapping(IpProtocol protocol, uint16_t internal_port, uint16_t external_port = 0,
               std::chrono::milliseconds timeout = 30s, StateCallback on_state_change = {});
PLUM_CXX_EXPORT void destroy_mapping(int id);
PLUM_CXX_EXPORT bool has_mapping(int id);
PLUM_CXX_EXPORT Result<std::string> get_local_address();
PLUM_CXX_EXPORT Client &default_client();

} // namespace plum

#include "plum/stats.hpp"
