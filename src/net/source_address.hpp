// The local address the system would send from to reach a peer, by the one
// portable means: connect() a UDP socket to it, which sends nothing and
// makes the kernel pick the route and our source address.
#pragma once

#include "plum/result.hpp"

#include <asio/ip/address.hpp>

namespace plum::net {

Result<asio::ip::address> connected_source_address(const asio::ip::address &peer);

} // namespace plum::net
