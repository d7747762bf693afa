#include "net/source_address.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

namespace plum::net {

Result<asio::ip::address> connected_source_address(const asio::ip::address &peer) {
	asio::io_context io;
	asio::ip::udp::socket socket(io);
	std::error_code ec;
	socket.open(peer.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
	if (!ec)
		socket.connect({peer, 9}, ec);
	if (ec)
		return Error(Errc::no_gateway, "no route to " + peer.to_string() + ": " + ec.message());
	auto local = socket.local_endpoint(ec);
	if (ec)
		return Error(Errc::no_gateway, ec.message());
	return local.address();
}

Result<asio::ip::address_v4> connected_source_address(const asio::ip::address_v4 &peer) {
	auto a = connected_source_address(asio::ip::address(peer));
	if (!a)
		return a.error();
	return a->to_v4();
}

Result<asio::ip::address_v6> connected_source_address(const asio::ip::address_v6 &peer) {
	auto a = connected_source_address(asio::ip::address(peer));
	if (!a)
		return a.error();
	return a->to_v6();
}

} // namespace plum::net
