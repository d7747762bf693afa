// The local address the system would send from to reach a peer, by the one
// portable means: connect() a UDP socket to it, which sends nothing and
// makes the kernel pick the route and our source address.
#pragma once

#include "plum/result.hpp"

#include <asio/ip/address.hpp>

namespace plum::net {

Result<asio::ip::address> connected_source_address(const asio::ip::address &peer);
// The same, as local_address_towards(6) answers it where this lookup is
// the system's (Linux, the BSDs): an address of the peer's family.
Result<asio::ip::address_v4> connected_source_address(const asio::ip::address_v4 &peer);
Result<asio::ip::address_v6> connected_source_address(const asio::ip::address_v6 &peer);

} // namespace plum::net
