#include "net/address.hpp"

namespace plum::net {

namespace {

bool in(uint32_t a, uint32_t net, int prefix) noexcept {
	const uint32_t mask = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
	return (a & mask) == (net & mask);
}

constexpr uint32_t v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept {
	return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d;
}

} // namespace

asio::ip::address_v4 parse_address_v4(std::string_view text, std::error_code &ec) noexcept {
	ec = std::make_error_code(std::errc::invalid_argument);
	asio::ip::address_v4::bytes_type bytes{};
	for (size_t part = 0; part < bytes.size(); ++part) {
		if (part > 0) {
			if (text.empty() || text.front() != '.')
				return {};
			text.remove_prefix(1);
		}
		size_t digits = 0;
		unsigned value = 0;
		while (digits < text.size() && digits < 4 && text[digits] >= '0' && text[digits] <= '9')
			value = value * 10 + unsigned(text[digits++] - '0');
		if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && text.front() == '0'))
			return {};
		bytes[part] = static_cast<unsigned char>(value);
		text.remove_prefix(digits);
	}
	if (!text.empty())
		return {};
	ec.clear();
	return asio::ip::address_v4(bytes);
}

bool is_private(const asio::ip::address_v4 &addr) noexcept {
	const uint32_t a = addr.to_uint();
	return in(a, v4(10, 0, 0, 0), 8) || in(a, v4(172, 16, 0, 0), 12) ||
	       in(a, v4(192, 168, 0, 0), 16);
}

bool is_cgnat(const asio::ip::address_v4 &addr) noexcept {
	return in(addr.to_uint(), v4(100, 64, 0, 0), 10);
}

bool is_public(const asio::ip::address_v4 &addr) noexcept {
	const uint32_t a = addr.to_uint();
	return !(is_private(addr) || is_cgnat(addr) || in(a, v4(0, 0, 0, 0), 8) ||
	         in(a, v4(127, 0, 0, 0), 8) || in(a, v4(169, 254, 0, 0), 16) ||
	         in(a, v4(192, 0, 0, 0), 24) || in(a, v4(224, 0, 0, 0), 4) ||
	         in(a, v4(240, 0, 0, 0), 4));
}

bool is_public(const asio::ip::address &addr) noexcept {
	if (addr.is_v4())
		return is_public(addr.to_v4());
	const auto v6 = addr.to_v6();
	if (v6.is_v4_mapped())
		return is_public(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
	const auto b = v6.to_bytes();
	// Global unicast is 2000::/3; everything else (ULA fc00::/7, link-local,
	// loopback, multicast) is not reachable from the internet.
	return (b[0] & 0xE0) == 0x20;
}

bool is_double_nat(const asio::ip::address &external) noexcept {
	asio::ip::address_v4 a;
	if (external.is_v4())
		a = external.to_v4();
	else if (external.to_v6().is_v4_mapped())
		a = asio::ip::make_address_v4(asio::ip::v4_mapped, external.to_v6());
	else
		return false;
	return is_private(a) || is_cgnat(a);
}

int pinhole_rank(const asio::ip::address_v6 &a, bool global_scope, unsigned flags) noexcept {
	if (!global_scope || (flags & (ifa::kDadFailed | ifa::kDeprecated | ifa::kTentative)) != 0 ||
	    a.is_v4_mapped() || a.is_unspecified() || a.is_loopback() || a.is_link_local())
		return -1;
	const bool is_public = (a.to_bytes()[0] & 0xE0) == 0x20;
	return (is_public ? 2 : 0) + ((flags & ifa::kTemporary) ? 0 : 1);
}

void PinholeChoice::offer(const asio::ip::address_v6 &a, bool global_scope,
                          unsigned ifa_flags) noexcept {
	const int rank = pinhole_rank(a, global_scope, ifa_flags);
	if (rank > best_rank_) {
		best_rank_ = rank;
		best_ = a;
	}
}

Result<asio::ip::address_v6> PinholeChoice::result(const std::string &interface) const {
	if (best_rank_ < 0)
		return Error(Errc::no_gateway, "no global IPv6 address on interface " + interface);
	return best_;
}

} // namespace plum::net
