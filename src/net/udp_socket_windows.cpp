// udp_socket.hpp for Windows.
#include "net/udp_socket.hpp"

// winsock2.h before everything else of Windows (else windows.h brings the
// old winsock.h).
#include <winsock2.h>

#include <mswsock.h>
#include <ws2tcpip.h>

#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif

namespace plum::net {

// SIO_UDP_CONNRESET on (the default, set here so that no other setting on
// the host changes it): an ICMP port unreachable fails the next receive
// with WSAECONNRESET, as ECONNREFUSED on Linux. Unlike a TCP reset it ends
// nothing: the socket receives the next datagram normally.
std::error_code report_port_unreachable(asio::ip::udp::socket &socket) {
	BOOL on = TRUE;
	DWORD returned = 0;
	if (::WSAIoctl(socket.native_handle(), SIO_UDP_CONNRESET, &on, sizeof on, nullptr, 0, &returned,
	               nullptr, nullptr) == SOCKET_ERROR)
		return {::WSAGetLastError(), asio::error::get_system_category()};
	return {};
}

// WSAECONNRESET from a synchronous receive; through the completion port
// asio sees ERROR_PORT_UNREACHABLE, which it names connection_refused.
// WSAENETRESET is the ICMP time exceeded report.
bool is_unreachable_report(const std::error_code &ec) noexcept {
	return ec == asio::error::connection_refused || ec == asio::error::connection_reset ||
	       ec == asio::error::host_unreachable || ec == asio::error::network_unreachable ||
	       ec == asio::error::network_reset;
}

// WSAEMSGSIZE: the datagram did not fit; Windows hands over the part that
// did and fails the receive.
bool is_oversize_datagram(const std::error_code &ec) noexcept {
	return ec == asio::error::message_size;
}

// SO_REUSEADDR. On Windows it also lets a socket take over a port another
// socket bound without it, unless that one asked SO_EXCLUSIVEADDRUSE; the
// multicast listeners need it so they can share 1900 with the SSDP
// Discovery service and 5350 with other NAT-PMP/PCP clients, and every
// socket bound with it hears the group's datagrams.
std::error_code share_port(asio::ip::udp::socket &socket) {
	std::error_code ec;
	socket.set_option(asio::socket_base::reuse_address(true), ec);
	return ec;
}

} // namespace plum::net
