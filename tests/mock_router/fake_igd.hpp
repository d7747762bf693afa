// A fake UPnP Internet Gateway Device on 127.0.0.1, for loopback tests of
// the UPnP client: SSDP (unicast M-SEARCH answers), the device description
// and the WANIPConnection / WANPPPConnection SOAP actions, with a port
// mapping table that follows miniupnpd 2.3.1's rules (see
// tests/fixtures/miniupnpd-2.3.1/) and knobs to make it misbehave.
//
// It runs its own io_context on its own thread (started by the constructor,
// stopped and joined by the destructor), so a test drives the client on its
// own io_context and only waits on it. Every knob and accessor is
// thread-safe. Ports are chosen by the OS; ask for them.
#pragma once

// A libstdc++ header before any asio header: asio picks aligned_alloc or
// operator new by whether _GLIBCXX_HAVE_ALIGNED_ALLOC is defined yet, and
// every translation unit must pick the same (ASan: alloc-dealloc-mismatch).
#include <cstddef>

#include <asio/ip/address_v4.hpp>
#include <asio/ip/udp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plum::test {

class FakeIgd {
public:
	// Which WAN*Connection services the description lists.
	enum class Services {
		WanIp,       // WANIPConnection:<version>
		WanPppOnly,  // WANPPPConnection:1
		WanIpAndPpp, // both, in two WANConnectionDevices; one of them Disconnected
	};
	enum class XmlStyle {
		Plain,     // as miniupnpd writes it
		Uppercase, // every element name in upper case
		Prefixed,  // every element with a namespace prefix of its own
	};
	enum class ControlUrl {
		AbsolutePath, // "/ctl/IPConn"
		Relative,     // "ctl/IPConn"
		Absolute,     // "http://127.0.0.1:<port>/ctl/IPConn"
	};
	// How HTTP replies go out.
	struct ReplyStyle {
		bool chunked = false;               // Transfer-Encoding: chunked, small chunks
		std::chrono::milliseconds delay{0}; // before the reply is written
		bool truncate = false;              // Content-Length of the whole body, half sent, close
		bool huge = false;                  // the body padded past 64 KiB
	};

	struct Action {
		std::string name;         // from SOAPAction
		std::string service_type; // from SOAPAction
		std::string path;         // the control URL path the POST went to
		std::vector<std::pair<std::string, std::string>> args; // in document order
		// The first argument with this name, or "".
		std::string arg(std::string_view name) const;
	};

	struct Mapping {
		std::string remote_host;
		uint16_t external_port = 0;
		std::string protocol; // "TCP" / "UDP"
		uint16_t internal_port = 0;
		std::string internal_client;
		bool enabled = true;
		std::string description;
		uint32_t lease = 0;
	};

	FakeIgd();
	~FakeIgd();
	FakeIgd(const FakeIgd &) = delete;
	FakeIgd &operator=(const FakeIgd &) = delete;

	uint16_t ssdp_port() const;
	uint16_t http_port() const;
	asio::ip::udp::endpoint ssdp_endpoint() const;
	// "http://127.0.0.1:<port>/rootDesc.xml" (what LOCATION says by default).
	std::string location() const;

	// --- knobs ---
	void set_igd_version(int version); // 1 or 2: device and WANIPConnection versions
	void set_services(Services services);
	// With Services::WanIpAndPpp: which one says Connected (the other says
	// Disconnected). Default: WANIPConnection.
	void set_wanip_connected(bool connected);
	// The next `count` requests of `action` get UPnP error `code` (a fault).
	void fail_next(std::string action, int code, int count = 1);
	// miniupnpd's "only permanent leases": 725 for any lease other than 0.
	void set_permanent_only(bool on);
	void set_description_style(ReplyStyle style);
	void set_soap_style(ReplyStyle style);
	// SOAP requests whose NewExternalPort is `port` are answered after
	// `delay` (one slow call among fast ones); 0 ms: no longer.
	void set_port_delay(uint16_t port, std::chrono::milliseconds delay);
	void set_xml_style(XmlStyle style);
	void set_control_url(ControlUrl mode);
	void set_url_base(bool present);
	// The host LOCATION names ("" = 127.0.0.1). Nothing is served there,
	// except a trap listener on 127.0.0.2:<http_port> that counts connections.
	void set_location_host(std::string host);
	// Answer SSDP from a second socket (another source port).
	void set_ssdp_from_other_port(bool on);
	void set_ssdp_silent(bool on);
	void set_external_ip(asio::ip::address_v4 address);
	// Serve this text verbatim as the description ("" = the generated one).
	void set_description_xml(std::string xml);
	// The router rebooted: the mapping table is forgotten, and the
	// BOOTID.UPNP.ORG of its SSDP answers goes up by one.
	void restart();
	uint32_t boot_id() const;

	// --- what happened ---
	std::vector<Mapping> mappings() const;
	std::optional<Mapping> mapping(uint16_t external_port, std::string_view protocol) const;
	std::vector<Action> actions() const;
	size_t count(std::string_view action) const;
	size_t ssdp_searches() const; // M-SEARCH datagrams received
	// The distinct sources of those: each search opens its own socket, so
	// a new search is a new source, however late its datagrams arrive.
	size_t ssdp_searchers() const;
	size_t description_requests() const;
	size_t http_connections() const;     // accepted, ever
	size_t open_connections() const;     // accepted and not yet closed
	size_t max_open_connections() const; // the most open at once
	size_t trap_connections() const;     // accepted on 127.0.0.2 (never expected)

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace plum::test
