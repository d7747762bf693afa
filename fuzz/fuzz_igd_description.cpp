// Fuzz target: UPnP device description parser (src/upnp/description.cpp).
// Invariants: never crashes or hangs; on success, every service kept has a
// control URL on the host:port the description came from (anything else
// would let a device steer our SOAP requests elsewhere), services are in
// preference order, and versions are sane.
#include "upnp/description.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static const plum::http::Url location = [] {
		auto u = plum::http::parse_url("http://192.168.1.1:5000/rootDesc.xml");
		if (!u)
			__builtin_trap();
		return *u;
	}();
	const std::string_view xml(reinterpret_cast<const char *>(data), size);
	auto d = plum::upnp::parse_description(xml, location);
	if (!d)
		return 0;
	if (d->services.empty())
		__builtin_trap();
	int last_rank = 0;
	for (const auto &s : d->services) {
		if (s.control_url.host != location.host || s.control_url.port != location.port)
			__builtin_trap();
		if (s.version < 1 || s.version > 99)
			__builtin_trap();
		const int rank = s.ppp ? 2 : (s.version >= 2 ? 0 : 1);
		if (rank < last_rank)
			__builtin_trap();
		last_rank = rank;
	}
	if (d->igd_version < 1)
		__builtin_trap();
	return 0;
}
