// udp_socket.hpp for Linux, macOS, iOS and the BSDs.
#include "net/udp_socket.hpp"

namespace plum::net {

std::error_code report_port_unreachable(asio::ip::udp::socket &) {
	return {}; // a connected socket reports it as ECONNREFUSED by itself
}

bool is_unreachable_report(const std::error_code &ec) noexcept {
	return ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
	       ec == asio::error::network_unreachable;
}

bool is_oversize_datagram(const std::error_code &) noexcept {
	return false; // recv() truncates; the caller sees a full buffer
}

// SO_REUSEADDR: on Linux every socket bound to the port with it hears the
// group's datagrams. The BSDs and macOS let two sockets bind the same
// wildcard address and port only with SO_REUSEPORT on both (SO_REUSEADDR
// counts as it there only for a multicast address, and the listeners bind
// the wildcard); Linux's SO_REUSEPORT means something else (it spreads
// unicast among the sockets), so it is set only where it is the sharing.
std::error_code share_port(asio::ip::udp::socket &socket) {
	std::error_code ec;
	socket.set_option(asio::socket_base::reuse_address(true), ec);
#if defined(SO_REUSEPORT) && !defined(__linux__)
	if (!ec)
		socket.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
#endif
	return ec;
}

} // namespace plum::net
