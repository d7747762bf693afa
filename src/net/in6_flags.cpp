#include "net/in6_flags.hpp"

#include "net/address.hpp"

#include <string>

namespace plum::net::in6 {

unsigned ifa_flags_of(uint32_t f, const FlagBits &bits) noexcept {
	unsigned flags = 0;
	if (f & bits.tentative)
		flags |= ifa::kTentative;
	if (f & (bits.duplicated | bits.detached | bits.clat46))
		flags |= ifa::kDadFailed;
	if (f & bits.deprecated)
		flags |= ifa::kDeprecated;
	if (f & bits.temporary)
		flags |= ifa::kTemporary;
	return flags;
}

Result<asio::ip::address_v6> global_address6(const std::vector<InterfaceAddress> &addresses,
                                             unsigned index, const FlagBits &bits) {
	PinholeChoice choice;
	for (const auto &a : addresses) {
		if (a.index != index)
			continue;
		// No scope field here: pinhole_rank turns link-local and loopback
		// away itself, and the deprecated site-local fec0::/10 is not global.
		const auto b = a.address.to_bytes();
		const bool site_local = b[0] == 0xfe && (b[1] & 0xc0) == 0xc0;
		choice.offer(a.address, !site_local, ifa_flags_of(a.in6_flags, bits));
	}
	return choice.result(std::to_string(index));
}

} // namespace plum::net::in6
