// An interface's IPv6 addresses on the KAME stacks (macOS, iOS, the BSDs),
// whose state comes as IN6_IFF_* flags (ioctl SIOCGIFAFLAG_IN6), and the
// choice among them of the address a pinhole opens to. Pure: route_bsd.cpp
// gathers the addresses (getifaddrs) and the flags, and fills FlagBits from
// <netinet6/in6_var.h>; the tests fill it with the values that header holds.
#pragma once

#include "plum/result.hpp"

#include <asio/ip/address_v6.hpp>

#include <cstdint>
#include <vector>

namespace plum::net::in6 {

// The IN6_IFF_* bits that matter here; 0 for one a system lacks.
struct FlagBits {
	uint32_t tentative = 0;  // IN6_IFF_TENTATIVE: duplicate address detection under way
	uint32_t duplicated = 0; // IN6_IFF_DUPLICATED: DAD found another node with it
	uint32_t detached = 0;   // IN6_IFF_DETACHED: its prefix is not seen on the link
	uint32_t deprecated = 0; // IN6_IFF_DEPRECATED: preferred lifetime over
	uint32_t temporary = 0;  // IN6_IFF_TEMPORARY: a privacy address (RFC 8981)
	uint32_t clat46 = 0;     // IN6_IFF_CLAT46 (Apple): the 464XLAT translator's, not ours
};

// The flags in the IFA_F_* terms of pinhole_rank (net/address.hpp). An
// address that is duplicated, detached or CLAT46's is unusable as a
// pinhole's, which pinhole_rank says of a failed DAD: all three map there.
unsigned ifa_flags_of(uint32_t in6_flags, const FlagBits &bits) noexcept;

struct InterfaceAddress {
	asio::ip::address_v6 address;
	unsigned index = 0;     // the interface's
	uint32_t in6_flags = 0; // IN6_IFF_*; 0 when the system could not say
};

// The best pinhole address (pinhole_rank) of interface `index`.
Result<asio::ip::address_v6> global_address6(const std::vector<InterfaceAddress> &addresses,
                                             unsigned index, const FlagBits &bits);

} // namespace plum::net::in6
