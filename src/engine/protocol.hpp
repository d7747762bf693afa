// The one interface every port-mapping protocol implements (PCP, NAT-PMP,
// UPnP-IGD). The engine holds the clients in preference order and works on
// mapping records; a client knows its wire protocol and nothing of the
// registry. All methods are called on the engine's io_context thread, and
// every completion handler is invoked exactly once, on that thread, never
// from inside the call that started it (post, do not call inline).
#pragma once

#include "engine/counters.hpp"
#include "plum/plum.hpp"

#include <asio/ip/address.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace plum::engine {

struct MapRequest {
	IpProtocol protocol = IpProtocol::Tcp;
	uint16_t internal_port = 0;
	uint16_t external_port = 0;       // suggested; 0: any
	uint32_t lifetime = 7200;         // seconds requested
	std::array<uint8_t, 12> nonce{};  // PCP mapping nonce, kept for renew/delete
	std::string description = "plum"; // UPnP NewPortMappingDescription
	// unmap() only: whether the router may hold this mapping (it was granted,
	// or a request went unanswered). When false, a client whose unmap()
	// withdraws pending maps sends nothing if none of them reached the wire.
	bool held = true;
};

struct MapGrant {
	asio::ip::address external_address;
	uint16_t external_port = 0;
	uint32_t lifetime = 0;      // seconds granted; 0: permanent (UPnP lease 0)
	uint16_t internal_port = 0; // as the router recorded it
};

// The UPnP device that answered a probe, from its description, for
// `plumc probe` (the root device's fields, as the router spells them).
struct UpnpDevice {
	std::string friendly_name, manufacturer, model_name, model_number;
	std::string device_type; // the root's, e.g. urn:...:InternetGatewayDevice:2
	int igd_version = 1;
	std::string service_type; // the WAN*Connection service chosen
	std::string control_url;
	std::vector<std::string> services; // every serviceType in the tree, in order
};

struct ProbeResult {
	asio::ip::address external_address;
	std::optional<uint32_t> epoch; // PCP/NAT-PMP server epoch, seconds
	std::chrono::microseconds rtt{0};
	std::string detail;             // e.g. UPnP device and service type, for `plumc probe`
	std::optional<UpnpDevice> upnp; // UPnP only
};

// What a client tells the engine without being asked.
struct ProtocolEvents {
	// The gateway restarted or lost its state (epoch went backwards, PCP
	// ANNOUNCE, a NAT-PMP address notice, SSDP ssdp:alive after byebye):
	// every mapping must be re-created.
	std::function<void()> gateway_restarted;
	// The external address changed (NAT-PMP notice, a new address in a reply).
	std::function<void(const asio::ip::address &)> external_address_changed;
	// The gateway answered a probe still in progress (UPnP: its SSDP
	// answer, before the description and SOAP calls): it is alive, so no
	// early FAILURE while it finishes.
	std::function<void()> gateway_answered;
};

class ProtocolClient {
public:
	virtual ~ProtocolClient() = default;

	virtual MappingProtocol kind() const noexcept = 0;
	virtual void set_events(ProtocolEvents events) = 0;

	// Finds out whether the gateway speaks this protocol, and its external
	// address. Fails fast where the network says so (ICMP port unreachable,
	// PCP answered by a NAT-PMP-only server: Errc::unsupported).
	virtual void probe(std::function<void(Result<ProbeResult>)> done) = 0;
	// Creates or renews a mapping (same request, same nonce: a renewal).
	virtual void map(const MapRequest &request, std::function<void(Result<MapGrant>)> done) = 0;
	// Deletes a mapping made by map() (request.external_port = the granted port).
	virtual void unmap(const MapRequest &request, std::function<void(Result<void>)> done) = 0;
	// True when unmap() may be called while a map() of the same mapping is
	// pending: the pending map then completes with Errc::cancelled, and the
	// deletion is ordered after whatever of it reached the router. When
	// false, the engine waits for the map() to complete first.
	virtual bool unmap_overtakes_map() const noexcept { return false; }
	// Drops a pending map() of this mapping (same nonce) that has not
	// reached the router yet; it then completes with Errc::cancelled.
	// False when there is none, or when it is already on the wire.
	virtual bool withdraw_map(const MapRequest &request) {
		(void)request;
		return false;
	}
	// Abandons everything in flight: each pending handler completes with
	// Errc::cancelled. The client stays usable.
	virtual void cancel() = 0;

	// What this client has done so far (stats.hpp); the engine adds
	// renewals and re-creations. A client that counts nothing reports zeros.
	virtual ProtocolCounters counters() const { return {}; }
};

} // namespace plum::engine
