// UDA 1.1 §3.2.1 (control: action invocation) and §3.2.2 (action errors).
// See soap.hpp for the envelope sketch.
#include "upnp/soap.hpp"

#include "net/address.hpp"
#include "upnp/upnp_errors.hpp"
#include "upnp/xml.hpp"

#include <charconv>

namespace plum::upnp {

namespace {

constexpr std::string_view kEnvelopeOpen =
    "<?xml version=\"1.0\"?>\r\n"
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>";
constexpr std::string_view kEnvelopeClose = "</s:Body></s:Envelope>\r\n";

// Where a UPnPError may sit below <Fault> (normally Fault/detail/UPnPError).
constexpr int kMaxFaultDepth = 4;
// How much of a router's errorDescription or faultstring we keep.
constexpr size_t kMaxDescription = 256;

// A header value must not carry CR/LF (header injection) or a quote (it
// would end the quoted SOAPAction early).
std::string header_safe(std::string_view s) {
	std::string out;
	for (char c : s) {
		const auto u = static_cast<unsigned char>(c);
		if (u >= 0x20 && u != 0x7f && c != '"' && c != '\\')
			out += c;
	}
	return out;
}

// A description is free text from the user; XML 1.0 cannot carry most
// control bytes at all, so they become spaces rather than invalid markup.
std::string printable(std::string_view s) {
	std::string out(s);
	for (char &c : out)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			c = ' ';
	return out;
}

// For error contexts that end up in logs: printable ASCII only, bounded.
std::string loggable(std::string_view s) {
	std::string out;
	for (char c : s.substr(0, kMaxDescription)) {
		const auto u = static_cast<unsigned char>(c);
		out += (u >= 0x20 && u < 0x7f) ? c : '?';
	}
	return out;
}

std::string envelope(std::string_view element, std::string_view service_type,
                     const SoapArgs &args) {
	std::string body(kEnvelopeOpen);
	body += "<u:";
	body += element;
	body += " xmlns:u=\"";
	body += xml::escape(service_type);
	body += "\">";
	for (const auto &[name, value] : args) {
		body += '<';
		body += name;
		body += '>';
		body += xml::escape(value);
		body += "</";
		body += name;
		body += '>';
	}
	body += "</u:";
	body += element;
	body += '>';
	body += kEnvelopeClose;
	return body;
}

// UPnP argument names are ASCII identifiers; anything else in a response is
// skipped (and could not be written back as an element name).
bool valid_arg_name(std::string_view n) noexcept {
	if (n.empty() || n.size() > 64)
		return false;
	auto alpha = [](char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
	};
	if (!alpha(n.front()))
		return false;
	for (char c : n)
		if (!alpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.')
			return false;
	return true;
}

// Decimal digits only (no sign, no spaces: values arrive trimmed), <= max.
template <class T> std::optional<T> parse_uint(std::string_view s, T max) {
	if (s.empty() || s.size() > 10)
		return std::nullopt;
	uint64_t v = 0;
	for (char c : s) {
		if (c < '0' || c > '9')
			return std::nullopt;
		v = v * 10 + uint64_t(c - '0');
	}
	if (v > static_cast<uint64_t>(max))
		return std::nullopt;
	return static_cast<T>(v);
}

pugi::xml_node first_element(const pugi::xml_node &node) noexcept {
	for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling())
		if (c.type() == pugi::node_element)
			return c;
	return {};
}

pugi::xml_node find_bounded(const pugi::xml_node &node, std::string_view name, int depth) {
	if (depth <= 0)
		return {};
	for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
		if (c.type() != pugi::node_element)
			continue;
		if (xml::is(c, name))
			return c;
		if (auto found = find_bounded(c, name, depth - 1))
			return found;
	}
	return {};
}

Error fault_error(const pugi::xml_node &fault) {
	const pugi::xml_node upnp_error = find_bounded(fault, "UPnPError", kMaxFaultDepth);
	if (upnp_error) {
		const auto code = parse_uint<int>(xml::text(xml::child(upnp_error, "errorCode")), 9999);
		if (code && *code > 0)
			return Error(std::error_code(*code, upnp_category()),
			             loggable(xml::text(xml::child(upnp_error, "errorDescription"))));
	}
	std::string context = "SOAP fault without a UPnP error code";
	if (const std::string s = xml::text(xml::child(fault, "faultstring")); !s.empty())
		context += ": " + loggable(s);
	return Error(Errc::failed, std::move(context));
}

Error http_error(int http_status, std::string_view what) {
	return Error(Errc::failed, "HTTP " + std::to_string(http_status) + ", " + std::string(what));
}

SoapRequest port_mapping_request(std::string_view service_type, std::string_view action,
                                 const PortMappingArgs &a) {
	// WANIPConnection:2 §2.5.16 / §2.5.17: the same eight arguments, in
	// this order, for AddPortMapping and AddAnyPortMapping.
	return build_request(service_type, action,
	                     {
	                         {"NewRemoteHost", a.remote_host},
	                         {"NewExternalPort", std::to_string(a.external_port)},
	                         {"NewProtocol", a.protocol},
	                         {"NewInternalPort", std::to_string(a.internal_port)},
	                         {"NewInternalClient", a.internal_client},
	                         {"NewEnabled", a.enabled ? "1" : "0"},
	                         {"NewPortMappingDescription", printable(a.description)},
	                         {"NewLeaseDuration", std::to_string(a.lease_duration)},
	                     });
}

SoapArgs entry_key(std::string_view remote_host, uint16_t external_port,
                   std::string_view protocol) {
	return {
	    {"NewRemoteHost", std::string(remote_host)},
	    {"NewExternalPort", std::to_string(external_port)},
	    {"NewProtocol", std::string(protocol)},
	};
}

} // namespace

SoapRequest build_request(std::string_view service_type, std::string_view action,
                          const SoapArgs &args) {
	SoapRequest r;
	r.soap_action = '"' + header_safe(service_type) + '#' + header_safe(action) + '"';
	r.body = envelope(action, service_type, args);
	return r;
}

SoapRequest build_get_external_ip(std::string_view service_type) {
	return build_request(service_type, "GetExternalIPAddress", {});
}

SoapRequest build_get_status_info(std::string_view service_type) {
	return build_request(service_type, "GetStatusInfo", {});
}

SoapRequest build_add_port_mapping(std::string_view service_type, const PortMappingArgs &args) {
	return port_mapping_request(service_type, "AddPortMapping", args);
}

SoapRequest build_add_any_port_mapping(std::string_view service_type, const PortMappingArgs &args) {
	return port_mapping_request(service_type, "AddAnyPortMapping", args);
}

SoapRequest build_delete_port_mapping(std::string_view service_type, std::string_view remote_host,
                                      uint16_t external_port, std::string_view protocol) {
	return build_request(service_type, "DeletePortMapping",
	                     entry_key(remote_host, external_port, protocol));
}

SoapRequest build_get_specific_port_mapping_entry(std::string_view service_type,
                                                  std::string_view remote_host,
                                                  uint16_t external_port,
                                                  std::string_view protocol) {
	return build_request(service_type, "GetSpecificPortMappingEntry",
	                     entry_key(remote_host, external_port, protocol));
}

std::string build_response_envelope(std::string_view service_type, std::string_view action,
                                    const SoapArgs &args) {
	return envelope(std::string(action) + "Response", service_type, args);
}

std::string build_fault_envelope(int error_code, std::string_view description) {
	std::string body(kEnvelopeOpen);
	body += "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
	        "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>";
	body += std::to_string(error_code);
	body += "</errorCode><errorDescription>";
	body += xml::escape(description);
	body += "</errorDescription></UPnPError></detail></s:Fault>";
	body += kEnvelopeClose;
	return body;
}

std::optional<std::string_view> SoapResponse::arg(std::string_view name) const {
	for (const auto &[n, v] : args)
		if (xml::iequals(n, name))
			return std::string_view(v);
	return std::nullopt;
}

Result<SoapResponse> parse_soap_response(std::string_view text, std::string_view action,
                                         int http_status) {
	const bool http_ok = http_status >= 200 && http_status < 300;
	pugi::xml_document doc;
	if (auto loaded = xml::load(doc, text); !loaded) {
		if (loaded.error() == Errc::too_large || http_ok)
			return loaded.error();
		return http_error(http_status, "body is not XML");
	}

	const pugi::xml_node envelope = doc.document_element();
	const pugi::xml_node body = xml::child(envelope, "Body");
	if (!xml::is(envelope, "Envelope") || !body) {
		if (!http_ok)
			return http_error(http_status, "body is not a SOAP envelope");
		return Error(Errc::malformed, "not a SOAP envelope");
	}

	const pugi::xml_node content = first_element(body);
	// A fault wins over the status: some routers send it with 200.
	if (xml::is(content, "Fault"))
		return fault_error(content);
	if (!http_ok)
		return http_error(http_status, "no SOAP fault");

	const std::string expected = std::string(action) + "Response";
	if (!xml::is(content, expected))
		return Error(Errc::malformed,
		             "expected " + expected + ", got " +
		                 (content ? loggable(xml::local_name(content)) : std::string("nothing")));

	SoapResponse r;
	for (pugi::xml_node c = content.first_child(); c; c = c.next_sibling()) {
		if (c.type() != pugi::node_element || !valid_arg_name(xml::local_name(c)))
			continue;
		r.args.emplace_back(std::string(xml::local_name(c)), xml::text(c));
	}
	return r;
}

Result<asio::ip::address_v4> external_ip_from(const SoapResponse &r) {
	const auto v = r.arg("NewExternalIPAddress");
	if (!v)
		return Error(Errc::malformed, "no NewExternalIPAddress");
	if (v->empty())
		return Error(Errc::failed, "router reports no external address");
	std::error_code ec;
	// inet_pton rules: exactly four decimal parts, no octal or hex forms.
	const asio::ip::address_v4 a = net::parse_address_v4(*v, ec);
	if (ec)
		return Error(Errc::malformed,
		             "NewExternalIPAddress is not an IPv4 address: " + loggable(*v));
	if (a.is_unspecified())
		return Error(Errc::failed, "router reports external address 0.0.0.0");
	if (a.is_multicast() || a == asio::ip::address_v4::broadcast())
		return Error(Errc::malformed,
		             "NewExternalIPAddress is not a unicast address: " + a.to_string());
	return a;
}

Result<uint16_t> reserved_port_from(const SoapResponse &r) {
	const auto v = r.arg("NewReservedPort");
	if (!v)
		return Error(Errc::malformed, "no NewReservedPort");
	const auto port = parse_uint<uint16_t>(*v, 65535);
	if (!port || *port == 0)
		return Error(Errc::malformed, "NewReservedPort is not a port: " + loggable(*v));
	return *port;
}

Result<StatusInfo> status_info_from(const SoapResponse &r) {
	const auto status = r.arg("NewConnectionStatus");
	if (!status || status->empty())
		return Error(Errc::malformed, "no NewConnectionStatus");
	StatusInfo s;
	s.connection_status = std::string(*status);
	s.last_error = std::string(r.arg("NewLastConnectionError").value_or(""));
	// Informational only: some routers report a negative or 64-bit uptime.
	s.uptime = parse_uint<uint32_t>(r.arg("NewUptime").value_or(""), UINT32_MAX).value_or(0);
	return s;
}

Result<PortMappingEntry> port_mapping_entry_from(const SoapResponse &r) {
	PortMappingEntry e;
	const auto port = parse_uint<uint16_t>(r.arg("NewInternalPort").value_or(""), 65535);
	if (!port || *port == 0)
		return Error(Errc::malformed, "NewInternalPort missing or not a port");
	e.internal_port = *port;
	e.internal_client = std::string(r.arg("NewInternalClient").value_or(""));
	const std::string_view enabled = r.arg("NewEnabled").value_or("1");
	e.enabled = enabled == "1" || xml::iequals(enabled, "true") || xml::iequals(enabled, "yes");
	e.description = std::string(r.arg("NewPortMappingDescription").value_or(""));
	const auto lease = parse_uint<uint32_t>(r.arg("NewLeaseDuration").value_or("0"), UINT32_MAX);
	if (!lease)
		return Error(Errc::malformed, "NewLeaseDuration is not a number");
	e.lease_duration = *lease;
	return e;
}

} // namespace plum::upnp
