// The kernel's routing and address tables over rtnetlink (Linux, Android):
// a dump request (RTM_GETROUTE, RTM_GETADDR) and a pure parser of its
// answer. The parser walks kernel-written bytes, but bounds-checks every
// header and attribute all the same.
#pragma once

#include "core/bytes.hpp"
#include "net/route.hpp"
#include "plum/result.hpp"

#include <asio/ip/address.hpp>

#include <cstdint>
#include <vector>

namespace plum::net::netlink {

struct Route {
	int family = 0;            // AF_INET, AF_INET6
	unsigned dst_len = 0;      // prefix length of the destination; 0: default
	unsigned type = 0;         // RTN_UNICAST, ...
	uint32_t table = 0;        // RTA_TABLE, else rtm_table
	asio::ip::address gateway; // RTA_GATEWAY; unspecified when absent
	unsigned oif = 0;          // RTA_OIF
	uint32_t priority = 0;     // RTA_PRIORITY (the metric)
};

struct Address {
	int family = 0;
	asio::ip::address address; // IFA_LOCAL for IPv4, else IFA_ADDRESS
	unsigned prefix_len = 0;
	unsigned index = 0; // the interface
	unsigned scope = 0; // RT_SCOPE_UNIVERSE (0) is global
	uint32_t flags = 0; // IFA_FLAGS when present, else ifa_flags
};

// One dump's messages, as the kernel sent them (datagrams concatenated).
// Errors: Errc::malformed for a header or attribute that overruns, the
// kernel's errno for an NLMSG_ERROR, Errc::truncated without NLMSG_DONE.
Result<std::vector<Route>> parse_routes(ByteSpan dump);
Result<std::vector<Address>> parse_addresses(ByteSpan dump);

// Choices over parsed tables (pure): the default route (destination /0,
// unicast, main table, with a gateway) of the lowest priority; for IPv6
// its interface's index (and the scope id on a link-local next hop).
Result<asio::ip::address_v4> default_gateway(const std::vector<Route> &routes);
Result<Gateway6> default_gateway6(const std::vector<Route> &routes);
// The best pinhole address (pinhole_rank) of interface `index`.
Result<asio::ip::address_v6> global_address6(const std::vector<Address> &addresses, unsigned index);

// Asks the kernel (a NETLINK_ROUTE socket, 1 s receive timeout, 1 MiB
// bound). `type` is RTM_GETROUTE or RTM_GETADDR.
Result<Bytes> dump(uint16_t type, uint8_t family);

} // namespace plum::net::netlink
