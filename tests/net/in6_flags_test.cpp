// The IN6_IFF_* flags of macOS and the BSDs in pinhole_rank's terms, and
// the choice of an interface's pinhole address, with the flag values
// written out as facts from the headers (no BSD header exists here).
#include "net/in6_flags.hpp"

#include "net/address.hpp"

#include <doctest/doctest.h>

using namespace plum;
using asio::ip::make_address_v6;
namespace in6 = plum::net::in6;
namespace ifa = plum::net::ifa;

namespace {

// KAME's values, the same in XNU bsd/netinet6/in6_var.h and FreeBSD
// sys/netinet6/in6_var.h: IN6_IFF_TENTATIVE 0x02, IN6_IFF_DUPLICATED 0x04,
// IN6_IFF_DETACHED 0x08, IN6_IFF_DEPRECATED 0x10, IN6_IFF_TEMPORARY 0x80;
// XNU's IN6_IFF_CLAT46 is 0x1000 (FreeBSD has none).
constexpr uint32_t kTentative = 0x02, kDuplicated = 0x04, kDetached = 0x08, kDeprecated = 0x10,
                   kAutoconf = 0x40, kTemporary = 0x80, kClat46 = 0x1000;

in6::FlagBits macos() {
	return {kTentative, kDuplicated, kDetached, kDeprecated, kTemporary, kClat46};
}
in6::FlagBits freebsd() {
	return {kTentative, kDuplicated, kDetached, kDeprecated, kTemporary, 0};
}

} // namespace

TEST_CASE("in6 flags: IN6_IFF_* in IFA_F_* terms") {
	const auto bits = macos();
	CHECK(in6::ifa_flags_of(0, bits) == 0);
	CHECK(in6::ifa_flags_of(kAutoconf, bits) == 0); // SLAAC, stable: nothing to say
	CHECK(in6::ifa_flags_of(kTentative, bits) == ifa::kTentative);
	CHECK(in6::ifa_flags_of(kDeprecated, bits) == ifa::kDeprecated);
	CHECK(in6::ifa_flags_of(kTemporary | kAutoconf, bits) == ifa::kTemporary);
	CHECK(in6::ifa_flags_of(kDuplicated, bits) == ifa::kDadFailed);
	CHECK(in6::ifa_flags_of(kDetached, bits) == ifa::kDadFailed);
	CHECK(in6::ifa_flags_of(kClat46, bits) == ifa::kDadFailed);
	CHECK(in6::ifa_flags_of(kClat46, freebsd()) == 0); // a bit FreeBSD does not define
}

TEST_CASE("in6 flags: the pinhole address of an interface") {
	const auto bits = macos();
	const std::vector<in6::InterfaceAddress> addresses{
	    {make_address_v6("fe80::1"), 4, 0},                            // link-local
	    {make_address_v6("2001:db8::dad"), 4, kTentative},             // DAD under way
	    {make_address_v6("2001:db8::1d"), 4, kDeprecated | kAutoconf}, // lifetime over
	    {make_address_v6("2001:db8::d0b"), 4, kDuplicated},
	    {make_address_v6("2001:db8::c1a7"), 4, kClat46},
	    {make_address_v6("fd00::1"), 4, kAutoconf},                     // ULA, stable
	    {make_address_v6("2001:db8::7e39"), 4, kTemporary | kAutoconf}, // public, temporary
	    {make_address_v6("2001:db8::5"), 4, kAutoconf},                 // public, stable: this one
	    {make_address_v6("2001:db8::99"), 5, kAutoconf},                // another interface
	};
	auto a = in6::global_address6(addresses, 4, bits);
	REQUIRE(a.ok());
	CHECK(a->to_string() == "2001:db8::5");

	SUBCASE("without the stable one, the temporary public one") {
		auto rest = addresses;
		rest.erase(rest.begin() + 7);
		CHECK(in6::global_address6(rest, 4, bits)->to_string() == "2001:db8::7e39");
	}
	SUBCASE("with only unusable ones, none") {
		const std::vector<in6::InterfaceAddress> unusable(addresses.begin(), addresses.begin() + 5);
		CHECK(in6::global_address6(unusable, 4, bits).error() == Errc::no_gateway);
	}
	SUBCASE("another interface's") {
		CHECK(in6::global_address6(addresses, 5, bits)->to_string() == "2001:db8::99");
		CHECK(in6::global_address6(addresses, 6, bits).error() == Errc::no_gateway);
	}
	SUBCASE("a site-local address is not global") {
		const std::vector<in6::InterfaceAddress> site{{make_address_v6("fec0::1"), 4, 0}};
		CHECK(in6::global_address6(site, 4, bits).error() == Errc::no_gateway);
	}
}
