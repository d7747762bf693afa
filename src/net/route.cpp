#include "net/route.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <charconv>
#include <fstream>
#include <limits>
#include <string>

namespace plum::net {

namespace {

// /proc/net/route prints addresses as the hex of the address in network
// byte order read as a host-order (little-endian on most machines) word.
bool parse_hex_address(std::string_view field, asio::ip::address_v4 &out) {
	uint32_t v = 0;
	auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v, 16);
	if (ec != std::errc() || p != field.data() + field.size())
		return false;
	const asio::ip::address_v4::bytes_type bytes{
	    static_cast<unsigned char>(v & 0xFF), static_cast<unsigned char>((v >> 8) & 0xFF),
	    static_cast<unsigned char>((v >> 16) & 0xFF), static_cast<unsigned char>(v >> 24)};
	out = asio::ip::address_v4(bytes);
	return true;
}

std::string_view next_field(std::string_view &line) {
	size_t start = line.find_first_not_of(" \t");
	if (start == std::string_view::npos) {
		line = {};
		return {};
	}
	line.remove_prefix(start);
	size_t end = line.find_first_of(" \t");
	std::string_view field = line.substr(0, end);
	line.remove_prefix(end == std::string_view::npos ? line.size() : end);
	return field;
}

} // namespace

Result<asio::ip::address_v4> parse_default_gateway(std::string_view text) {
	constexpr unsigned kRtfUp = 0x1, kRtfGateway = 0x2;
	bool found = false;
	unsigned best_metric = std::numeric_limits<unsigned>::max();
	asio::ip::address_v4 best;
	bool header = true;
	while (!text.empty()) {
		size_t eol = text.find('\n');
		std::string_view line = text.substr(0, eol);
		text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
		if (header) { // "Iface Destination Gateway Flags RefCnt Use Metric Mask ..."
			header = false;
			continue;
		}
		std::string_view f[8];
		for (auto &field : f)
			field = next_field(line);
		if (f[7].empty())
			continue;
		asio::ip::address_v4 dest, gw, mask;
		unsigned flags = 0, metric = 0;
		if (!parse_hex_address(f[1], dest) || !parse_hex_address(f[2], gw) ||
		    !parse_hex_address(f[7], mask))
			continue;
		if (std::from_chars(f[3].data(), f[3].data() + f[3].size(), flags, 16).ec != std::errc() ||
		    std::from_chars(f[6].data(), f[6].data() + f[6].size(), metric).ec != std::errc())
			continue;
		if (dest.to_uint() != 0 || mask.to_uint() != 0 || (flags & kRtfUp) == 0 ||
		    (flags & kRtfGateway) == 0)
			continue;
		if (!found || metric < best_metric) {
			found = true;
			best_metric = metric;
			best = gw;
		}
	}
	if (!found)
		return Error(Errc::no_gateway, "no default route in /proc/net/route");
	return best;
}

Result<asio::ip::address_v4> default_gateway() {
	std::ifstream in("/proc/net/route");
	if (!in)
		return Error(Errc::no_gateway, "cannot read /proc/net/route");
	std::string text;
	char buf[4096];
	// Bounded: a routing table larger than 1 MiB is not one we walk.
	while (in.read(buf, sizeof buf) || in.gcount() > 0) {
		text.append(buf, static_cast<size_t>(in.gcount()));
		if (text.size() > (1u << 20))
			return Error(Errc::too_large, "/proc/net/route");
	}
	return parse_default_gateway(text);
}

Result<asio::ip::address_v4> local_address_towards(const asio::ip::address_v4 &peer) {
	asio::io_context io;
	asio::ip::udp::socket socket(io);
	std::error_code ec;
	socket.open(asio::ip::udp::v4(), ec);
	if (!ec)
		socket.connect({peer, 9}, ec); // a UDP connect only picks a route
	if (ec)
		return Error(Errc::no_gateway, "no route to " + peer.to_string() + ": " + ec.message());
	auto local = socket.local_endpoint(ec);
	if (ec)
		return Error(Errc::no_gateway, ec.message());
	return local.address().to_v4();
}

} // namespace plum::net
