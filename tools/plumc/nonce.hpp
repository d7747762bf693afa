// The PCP mapping nonce of plumc's one-shot commands.
//
// RFC 6887 §11.2/§15: a PCP server renews or deletes a mapping only for the
// nonce that created it. `plumc map` exits and forgets, so a later
// `plumc unmap` must be able to find the same nonce again: it is derived
// from what identifies the mapping on this host (local address, IP
// protocol, internal port). It is not secret; `map --hold` keeps a random
// one instead, as the engine does.
#pragma once

#include "plum/plum.hpp"

#include <asio/ip/address_v4.hpp>

#include <array>
#include <cstdint>

namespace plum::plumc {

std::array<uint8_t, 12> oneshot_nonce(const asio::ip::address_v4 &local, IpProtocol protocol,
                                      uint16_t internal_port);

} // namespace plum::plumc
