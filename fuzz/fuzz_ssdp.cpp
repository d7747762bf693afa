// Fuzz target: the SSDP codec. Invariants of a successful parse: the fields
// we hand on are free of CR/LF, the LOCATION (when present) is an http URL
// parse_url accepts, ST/NT is present, a NOTIFY has an NTS, and only a
// byebye may lack a LOCATION.
#include "http/url.hpp"
#include "upnp/ssdp.hpp"

#include <cstddef>
#include <cstdint>

using namespace plum;
using namespace plum::upnp;

namespace {

bool clean(const std::string &s) {
	return s.find('\r') == std::string::npos && s.find('\n') == std::string::npos &&
	       s.find('\0') == std::string::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	const ByteSpan input(reinterpret_cast<const std::byte *>(data), size);
	auto msg = parse_ssdp(input);
	if (!msg)
		return 0;
	if (size > kMaxSsdpDatagram)
		__builtin_trap();
	if (!clean(msg->location) || !clean(msg->st) || !clean(msg->usn) || !clean(msg->server) ||
	    !clean(msg->nts))
		__builtin_trap();
	if (msg->st.empty())
		__builtin_trap();
	if (msg->kind == SsdpMessage::Kind::Notify && msg->nts.empty())
		__builtin_trap();
	if (msg->location.empty()) {
		if (msg->kind != SsdpMessage::Kind::Notify)
			__builtin_trap();
	} else if (!http::parse_url(msg->location).ok()) {
		__builtin_trap();
	}
	// What we would send in answer to such a device is well-formed too.
	const std::string search = build_msearch(msg->st, 1);
	if (search.find("\r\n\r\n") != search.size() - 4)
		__builtin_trap();
	return 0;
}
