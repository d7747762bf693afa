// The default gateway and the local address that reaches it, from the
// kernel. Both can be pinned in plum::Config instead.
#pragma once

#include "plum/result.hpp"

#include <asio/ip/address_v4.hpp>

#include <string_view>

namespace plum::net {

// Parses the text of /proc/net/route (Linux): the gateway of the default
// route (destination 0.0.0.0/0) with the lowest metric. Pure.
Result<asio::ip::address_v4> parse_default_gateway(std::string_view proc_net_route);

// Reads /proc/net/route (bounded read).
Result<asio::ip::address_v4> default_gateway();

// The local address the kernel would send from to reach `peer`: a UDP
// socket connect()ed to it (which sends nothing) tells its local endpoint.
Result<asio::ip::address_v4> local_address_towards(const asio::ip::address_v4 &peer);

} // namespace plum::net
