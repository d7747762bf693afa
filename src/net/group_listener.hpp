// The socket under every listener for what a gateway multicasts to all
// hosts without being asked (PCP ANNOUNCE and NAT-PMP notices to
// 224.0.0.1 / ff02::1 port 5350, SSDP NOTIFY to 239.255.255.250:1900).
#pragma once

#include <asio/ip/address.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/udp.hpp>

#include <optional>
#include <system_error>

namespace plum::net {

// Opens `socket` and binds it to `local`, sharing the port with other
// listeners on the host (share_port); an IPv6 socket hears IPv6 only.
// Then joins `group`, when given, on our interface: by its address for
// IPv4 (unspecified: the kernel's choice), by its index for IPv6. On
// failure the socket is closed again and the error returned.
std::error_code open_group_listener(asio::ip::udp::socket &socket,
                                    const asio::ip::udp::endpoint &local,
                                    const std::optional<asio::ip::address> &group,
                                    const asio::ip::address_v4 &interface_v4 = {},
                                    unsigned interface_index = 0);

// The socket's local address and port; an empty endpoint when closed.
asio::ip::udp::endpoint local_endpoint_of(const asio::ip::udp::socket &socket);

} // namespace plum::net
