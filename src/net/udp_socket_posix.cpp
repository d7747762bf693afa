// udp_socket.hpp for Linux (and other POSIX systems).
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

// SO_REUSEADDR: every socket bound to the port with it hears the group's
// datagrams.
std::error_code share_port(asio::ip::udp::socket &socket) {
	std::error_code ec;
	socket.set_option(asio::socket_base::reuse_address(true), ec);
	return ec;
}

} // namespace plum::net
