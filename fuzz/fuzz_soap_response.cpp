// Fuzz target: SOAP response parser (src/upnp/soap.cpp).
// Invariants: never crashes, with HTTP 200 or 500; a response that parses,
// written back with build_response_envelope and parsed again, yields the
// same arguments, and writing those again gives the same bytes (escaping
// and unescaping are inverse and stable).
#include "upnp/soap.hpp"
#include "upnp/xml.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

constexpr std::string_view kAction = "AddPortMapping";
constexpr std::string_view kService = "urn:schemas-upnp-org:service:WANIPConnection:1";

void exercise_decoders(const plum::upnp::SoapResponse &r) {
	(void)plum::upnp::external_ip_from(r);
	(void)plum::upnp::reserved_port_from(r);
	(void)plum::upnp::status_info_from(r);
	(void)plum::upnp::port_mapping_entry_from(r);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	const std::string_view xml(reinterpret_cast<const char *>(data), size);
	(void)plum::upnp::parse_soap_response(xml, kAction, 500);
	auto first = plum::upnp::parse_soap_response(xml, kAction, 200);
	if (!first)
		return 0;
	exercise_decoders(*first);

	const std::string built = plum::upnp::build_response_envelope(kService, kAction, first->args);
	// Escaping can grow a value fourfold (a tab becomes "&#9;"): past the cap
	// the parser rightly refuses, which says nothing about the round trip.
	if (built.size() > plum::upnp::xml::kMaxXmlSize)
		return 0;
	auto second = plum::upnp::parse_soap_response(built, kAction, 200);
	if (!second || second->args != first->args)
		__builtin_trap();
	if (plum::upnp::build_response_envelope(kService, kAction, second->args) != built)
		__builtin_trap();
	return 0;
}
