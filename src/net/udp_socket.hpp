// What UDP sockets do differently per platform, behind one set of calls
// (udp_socket_posix.cpp, udp_socket_windows.cpp).
#pragma once

#include <asio/ip/udp.hpp>

#include <system_error>

namespace plum::net {

// Readies a UDP socket that will be connect()ed to one server so that an
// ICMP port unreachable from it shows as a receive error (Linux does so
// for connected sockets by itself; Windows needs SIO_UDP_CONNRESET on, and
// then the error breaks nothing: the next receive works).
std::error_code report_port_unreachable(asio::ip::udp::socket &socket);

// Whether a receive error on a connected UDP socket is the network's
// answer that nothing listens there or no route leads there (an ICMP
// report): a fast negative answer, after which the socket still works.
bool is_unreachable_report(const std::error_code &ec) noexcept;

// Whether a receive error says only that the datagram was larger than our
// buffer (Windows reports it; Linux truncates in silence).
bool is_oversize_datagram(const std::error_code &ec) noexcept;

// Lets a listener share its port with other programs on the host that
// listen to the same multicast group (set before bind).
std::error_code share_port(asio::ip::udp::socket &socket);

} // namespace plum::net
