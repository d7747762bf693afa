#include "net/group_listener.hpp"

#include "net/udp_socket.hpp"

#include <asio/ip/multicast.hpp>
#include <asio/ip/v6_only.hpp>

namespace plum::net {

std::error_code open_group_listener(asio::ip::udp::socket &socket,
                                    const asio::ip::udp::endpoint &local,
                                    const std::optional<asio::ip::address> &group,
                                    const asio::ip::address_v4 &interface_v4,
                                    unsigned interface_index) {
	std::error_code ec;
	socket.open(local.protocol(), ec);
	if (!ec)
		ec = share_port(socket);
	if (!ec && local.address().is_v6())
		socket.set_option(asio::ip::v6_only(true), ec);
	if (!ec)
		socket.bind(local, ec);
	if (!ec && group) {
		if (group->is_v6())
			socket.set_option(asio::ip::multicast::join_group(group->to_v6(), interface_index), ec);
		else if (interface_v4.is_unspecified())
			socket.set_option(asio::ip::multicast::join_group(group->to_v4()), ec);
		else
			socket.set_option(asio::ip::multicast::join_group(group->to_v4(), interface_v4), ec);
	}
	if (ec) {
		std::error_code ignored;
		socket.close(ignored);
	}
	return ec;
}

asio::ip::udp::endpoint local_endpoint_of(const asio::ip::udp::socket &socket) {
	std::error_code ec;
	auto ep = socket.local_endpoint(ec);
	return ec ? asio::ip::udp::endpoint() : ep;
}

} // namespace plum::net
