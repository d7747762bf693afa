#include "net/proc_route.hpp"

#include "net/address.hpp"

#include <charconv>
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

namespace {

// /proc/net/ipv6_route and if_inet6 print an address as 32 hex digits in
// network byte order.
bool parse_hex_address6(std::string_view field, asio::ip::address_v6 &out) {
	if (field.size() != 32)
		return false;
	asio::ip::address_v6::bytes_type bytes{};
	for (size_t i = 0; i < bytes.size(); ++i) {
		unsigned v = 0;
		auto [p, ec] = std::from_chars(field.data() + 2 * i, field.data() + 2 * i + 2, v, 16);
		if (ec != std::errc() || p != field.data() + 2 * i + 2)
			return false;
		bytes[i] = static_cast<unsigned char>(v);
	}
	out = asio::ip::address_v6(bytes);
	return true;
}

bool parse_hex(std::string_view field, unsigned &out) {
	auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), out, 16);
	return ec == std::errc() && p == field.data() + field.size() && !field.empty();
}

std::string_view next_line(std::string_view &text) {
	size_t eol = text.find('\n');
	std::string_view line = text.substr(0, eol);
	text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
	return line;
}

} // namespace

Result<Gateway6> parse_default_gateway6(std::string_view text) {
	// dest dest_len src src_len next_hop metric refcnt use flags ifname
	constexpr unsigned kRtfUp = 0x1, kRtfGateway = 0x2;
	bool found = false;
	unsigned best_metric = 0;
	Gateway6 best;
	while (!text.empty()) {
		std::string_view line = next_line(text);
		std::string_view f[10];
		for (auto &field : f)
			field = next_field(line);
		if (f[9].empty())
			continue;
		asio::ip::address_v6 dest, hop;
		unsigned dest_len = 0, metric = 0, flags = 0;
		if (!parse_hex_address6(f[0], dest) || !parse_hex(f[1], dest_len) ||
		    !parse_hex_address6(f[4], hop) || !parse_hex(f[5], metric) || !parse_hex(f[8], flags))
			continue;
		if (!dest.is_unspecified() || dest_len != 0 || (flags & kRtfUp) == 0 ||
		    (flags & kRtfGateway) == 0 || hop.is_unspecified())
			continue;
		if (!found || metric < best_metric) {
			found = true;
			best_metric = metric;
			best = Gateway6{hop, std::string(f[9])};
		}
	}
	if (!found)
		return Error(Errc::no_gateway, "no IPv6 default route in /proc/net/ipv6_route");
	return best;
}

Result<asio::ip::address_v6> parse_global_address6(std::string_view text,
                                                   std::string_view interface_name) {
	// address ifindex prefix_len scope flags ifname
	constexpr unsigned kScopeGlobal = 0x00;
	PinholeChoice choice;
	while (!text.empty()) {
		std::string_view line = next_line(text);
		std::string_view f[6];
		for (auto &field : f)
			field = next_field(line);
		if (f[5] != interface_name)
			continue;
		asio::ip::address_v6 a;
		unsigned scope = 0, flags = 0;
		if (!parse_hex_address6(f[0], a) || !parse_hex(f[3], scope) || !parse_hex(f[4], flags))
			continue;
		choice.offer(a, scope == kScopeGlobal, flags);
	}
	return choice.result(std::string(interface_name));
}

} // namespace plum::net
