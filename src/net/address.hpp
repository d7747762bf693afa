// Address classes that decide what plum does: a public local address needs
// no mapping (Direct); a private or carrier-grade external address means a
// second NAT stands between the gateway and the internet.
#pragma once

#include "plum/result.hpp"

#include <asio/ip/address.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace plum::net {

// IPv4 text as Linux's inet_pton reads it, on every platform: exactly four
// decimal parts of 0-255, no leading zeros, nothing around them. asio's
// parser is the system's, and Windows' (WSAStringToAddress) also takes
// "1.2.3", octal "010.0.0.1" and hex, which must not change what a
// router's answer, a URL or a setting means. Sets ec (invalid_argument) and
// returns 0.0.0.0 on anything else.
asio::ip::address_v4 parse_address_v4(std::string_view text, std::error_code &ec) noexcept;

// RFC 1918 private ranges: 10/8, 172.16/12, 192.168/16.
bool is_private(const asio::ip::address_v4 &a) noexcept;
// RFC 6598 shared address space for carrier-grade NAT: 100.64/10.
bool is_cgnat(const asio::ip::address_v4 &a) noexcept;
// Routable on the internet: not private, CGNAT, loopback, link-local,
// multicast, unspecified, broadcast, "this network" (0/8), or reserved (240/4).
bool is_public(const asio::ip::address_v4 &a) noexcept;
bool is_public(const asio::ip::address &a) noexcept;
// An external address that betrays a second NAT (private or CGNAT).
bool is_double_nat(const asio::ip::address &external) noexcept;

// How good an IPv6 address of ours is as the one a pinhole opens to, from
// its interface flags (Linux's IFA_F_* values, which other platforms map
// onto): -1 when unusable (not global scope, tentative, deprecated, failed
// DAD, mapped, unspecified); otherwise a public (2000::/3) address before a
// ULA, a stable one before a temporary (privacy) one, which changes under
// the pinhole.
namespace ifa {
constexpr unsigned kTemporary = 0x01, kDadFailed = 0x08, kDeprecated = 0x20, kTentative = 0x40;
}
int pinhole_rank(const asio::ip::address_v6 &a, bool global_scope, unsigned ifa_flags) noexcept;

// The best pinhole address of one interface, among its addresses offered
// one at a time (each platform lists them its own way); the first of the
// best rank wins.
class PinholeChoice {
public:
	void offer(const asio::ip::address_v6 &a, bool global_scope, unsigned ifa_flags) noexcept;
	// The best usable address, or Errc::no_gateway naming the interface.
	Result<asio::ip::address_v6> result(const std::string &interface) const;

private:
	int best_rank_ = -1;
	asio::ip::address_v6 best_;
};

} // namespace plum::net
