// UPnP control: SOAP 1.1 over HTTP POST (UPnP Device Architecture 1.1 §3.2.1
// and §3.2.2; actions from WANIPConnection:1/:2 and WANPPPConnection:1).
//
// Request (body of the POST; SOAPAction: "<serviceType>#<action>"):
//   <?xml version="1.0"?>
//   <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
//               s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
//     <s:Body><u:ACTION xmlns:u="SERVICE-TYPE"><ArgIn>value</ArgIn>...</u:ACTION></s:Body>
//   </s:Envelope>
// Success (HTTP 200): the same shape with <u:ACTIONResponse> holding the out
// arguments. Failure (HTTP 500, some routers 200):
//   <s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>
//     <detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">
//       <errorCode>718</errorCode><errorDescription>...</errorDescription>
//     </UPnPError></detail></s:Fault></s:Body>
//
// We send exactly the shape above (no whitespace between elements, arguments
// in the order the service table lists them: some routers read them by
// position). We read leniently: prefixes or none, any case of element names,
// whitespace anywhere.
#pragma once

#include "plum/result.hpp"

#include <asio/ip/address_v4.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plum::upnp {

struct SoapRequest {
	std::string soap_action; // SOAPAction header value, quoted: "\"urn:...#Action\""
	std::string body;
};

// Out-of-band bytes (controls, '"') are dropped from service_type before it
// goes into the SOAPAction header, so a hostile description cannot inject
// header lines. Descriptions only yield the known service types anyway.
SoapRequest build_get_external_ip(std::string_view service_type);
SoapRequest build_get_status_info(std::string_view service_type);

struct PortMappingArgs {
	std::string remote_host; // "" = wildcard
	uint16_t external_port = 0;
	std::string protocol; // "TCP" / "UDP"
	uint16_t internal_port = 0;
	std::string internal_client;
	bool enabled = true;
	std::string description = "plum"; // control bytes become spaces
	uint32_t lease_duration = 0;      // seconds, 0 = permanent
};
SoapRequest build_add_port_mapping(std::string_view service_type, const PortMappingArgs &args);
// IGDv2 only (WANIPConnection:2 §2.5.16): the router may pick another port
// and returns it as NewReservedPort.
SoapRequest build_add_any_port_mapping(std::string_view service_type, const PortMappingArgs &args);
SoapRequest build_delete_port_mapping(std::string_view service_type, std::string_view remote_host,
                                      uint16_t external_port, std::string_view protocol);
SoapRequest build_get_specific_port_mapping_entry(std::string_view service_type,
                                                  std::string_view remote_host,
                                                  uint16_t external_port,
                                                  std::string_view protocol);

// A generic request: what the builders above use. Argument order is kept.
using SoapArgs = std::vector<std::pair<std::string, std::string>>;
SoapRequest build_request(std::string_view service_type, std::string_view action,
                          const SoapArgs &args);

// What a device answers (used by the mock router, tests and fuzz round trip).
std::string build_response_envelope(std::string_view service_type, std::string_view action,
                                    const SoapArgs &args);
std::string build_fault_envelope(int error_code, std::string_view description);

struct SoapResponse {
	SoapArgs args; // out arguments in document order, names without prefix, values trimmed
	// The first argument with this name, compared ignoring ASCII case.
	std::optional<std::string_view> arg(std::string_view name) const;
};

// Errors: a SOAP fault with a UPnPError becomes Error(UpnpError code,
// errorDescription), whatever the HTTP status; a fault without one is
// Errc::failed (faultstring as context); a non-2xx status without a fault is
// Errc::failed ("HTTP <n>"); a body that is not an <action>Response envelope
// is Errc::malformed; over 64 KiB is Errc::too_large.
Result<SoapResponse> parse_soap_response(std::string_view xml, std::string_view action,
                                         int http_status);

// Decoders for the fields the client needs. Missing or garbage fields are
// Errc::malformed.
// NewExternalIPAddress. An empty value or 0.0.0.0 (what routers say when the
// WAN link is down) is Errc::failed; multicast or broadcast is malformed.
Result<asio::ip::address_v4> external_ip_from(const SoapResponse &r);
// NewReservedPort (AddAnyPortMapping), 1..65535.
Result<uint16_t> reserved_port_from(const SoapResponse &r);

struct StatusInfo {
	std::string connection_status; // "Connected", "Disconnected", ...
	std::string last_error;        // "ERROR_NONE", ...
	uint32_t uptime = 0;           // seconds; 0 when absent or unreadable
};
// NewConnectionStatus is required; the other two are informational.
Result<StatusInfo> status_info_from(const SoapResponse &r);

// GetSpecificPortMappingEntry's out arguments.
struct PortMappingEntry {
	uint16_t internal_port = 0;
	std::string internal_client;
	bool enabled = false;
	std::string description;
	uint32_t lease_duration = 0;
};
Result<PortMappingEntry> port_mapping_entry_from(const SoapResponse &r);

} // namespace plum::upnp
