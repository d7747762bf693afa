#include "fixture.hpp"
#include "upnp/description.hpp"
#include "upnp/upnp_errors.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

using namespace plum;
using namespace plum::upnp;
using plum::test::read_fixture;

namespace {

http::Url location(std::string_view text = "http://192.168.1.1:5000/rootDesc.xml") {
	auto u = http::parse_url(text);
	REQUIRE(u.ok());
	return *u;
}

Result<Description> parse_fixture(const std::string &name, const http::Url &loc = location()) {
	return parse_description(read_fixture("quirks/" + name), loc);
}

std::string ip1 = "urn:schemas-upnp-org:service:WANIPConnection:1";
std::string ip2 = "urn:schemas-upnp-org:service:WANIPConnection:2";
std::string ppp1 = "urn:schemas-upnp-org:service:WANPPPConnection:1";

} // namespace

TEST_CASE("IGDv2 description: root fields and the WANIPConnection:2 service") {
	auto d = parse_fixture("desc_igd2_basic.xml");
	REQUIRE(d.ok());
	CHECK(d->friendly_name == "plum test router");
	CHECK(d->manufacturer == "plum fixtures");
	CHECK(d->model_name == "Quirk Router");
	CHECK(d->model_number == "7");
	CHECK(d->device_type == "urn:schemas-upnp-org:device:InternetGatewayDevice:2");
	CHECK(d->igd_version == 2);
	REQUIRE(d->services.size() == 1);
	const Service &s = d->services[0];
	CHECK(s.service_type == ip2);
	CHECK(s.version == 2);
	CHECK_FALSE(s.ppp);
	CHECK(s.service_id == "urn:upnp-org:serviceId:WANIPConn1");
	CHECK(s.control_url.to_string() == "http://192.168.1.1:5000/ctl/IPConn");
	CHECK(d->dropped.empty());
}

TEST_CASE("IGDv1-only description never reports a version-2 service") {
	auto d = parse_fixture("desc_igd1_only.xml");
	REQUIRE(d.ok());
	CHECK(d->igd_version == 1);
	REQUIRE(d->services.size() == 1);
	CHECK(d->services[0].service_type == ip1);
	CHECK(d->services[0].version == 1);
}

TEST_CASE("WANPPPConnection-only description") {
	auto d = parse_fixture("desc_wanppp_only.xml");
	REQUIRE(d.ok());
	REQUIRE(d->services.size() == 1);
	CHECK(d->services[0].ppp);
	CHECK(d->services[0].version == 1);
	CHECK(d->services[0].service_type == ppp1);
	CHECK(d->services[0].control_url.path == "/upnp/control/WANPPPConn1");
}

TEST_CASE("WANIP and WANPPP in separate connection devices: IP first, PPP kept") {
	auto d = parse_fixture("desc_wanip_and_wanppp.xml");
	REQUIRE(d.ok());
	REQUIRE(d->services.size() == 2);
	CHECK(d->services[0].service_type == ip1);
	CHECK(d->services[0].control_url.path == "/upnp/control/WANIPConn1");
	CHECK(d->services[1].ppp);
	CHECK(d->services[1].control_url.path == "/upnp/control/WANPPPConn1");
}

TEST_CASE("Several services: :2 before :1 before PPP, duplicates in document order") {
	auto d = parse_fixture("desc_igd2_several.xml");
	REQUIRE(d.ok());
	REQUIRE(d->services.size() == 4);
	CHECK(d->services[0].control_url.path == "/ctl/IPConn2a");
	CHECK(d->services[1].control_url.path == "/ctl/IPConn2b");
	CHECK(d->services[2].control_url.path == "/ctl/IPConn1");
	CHECK(d->services[2].version == 1);
	CHECK(d->services[3].control_url.path == "/ctl/PPP");
	CHECK(d->services[3].ppp);
}

TEST_CASE("Uppercase element names") {
	auto d = parse_fixture("desc_uppercase_elements.xml");
	REQUIRE(d.ok());
	CHECK(d->friendly_name == "plum test router");
	REQUIRE(d->services.size() == 1);
	CHECK(d->services[0].control_url.path == "/ctl/IPConn");
}

TEST_CASE("Namespace-prefixed elements (<ns0:root>)") {
	auto d = parse_fixture("desc_prefixed_namespace.xml");
	REQUIRE(d.ok());
	CHECK(d->igd_version == 2);
	REQUIRE(d->services.size() == 1);
	CHECK(d->services[0].version == 2);
	CHECK(d->services[0].control_url.to_string() == "http://192.168.1.1:5000/ctl/IPConn");
}

TEST_CASE("URLBase with and without a trailing slash resolve alike") {
	for (const char *name :
	     {"desc_urlbase_trailing_slash.xml", "desc_urlbase_no_trailing_slash.xml"}) {
		CAPTURE(name);
		// The description was fetched from another path than URLBase says:
		// URLBase wins.
		auto d = parse_fixture(name, location("http://192.168.1.1:5000/desc/root.xml"));
		REQUIRE(d.ok());
		REQUIRE(d->services.size() == 1);
		CHECK(d->services[0].control_url.to_string() == "http://192.168.1.1:5000/ctl/IPConn");
	}
}

TEST_CASE("Relative controlURL without a leading slash") {
	auto d = parse_fixture("desc_relative_controlurl_no_slash.xml");
	REQUIRE(d.ok());
	REQUIRE(d->services.size() == 1);
	CHECK(d->services[0].control_url.to_string() ==
	      "http://192.168.1.1:5000/upnp/control/WANIPConn1");
	// RFC 3986 §5.2.3: relative to the description's directory.
	auto nested = parse_fixture("desc_relative_controlurl_no_slash.xml",
	                            location("http://192.168.1.1:5000/igd/desc.xml"));
	REQUIRE(nested.ok());
	CHECK(nested->services[0].control_url.path == "/igd/upnp/control/WANIPConn1");
}

TEST_CASE("Absolute controlURL on the same host is kept") {
	auto d = parse_fixture("desc_absolute_controlurl_same_host.xml");
	REQUIRE(d.ok());
	REQUIRE(d->services.size() == 1);
	CHECK(d->services[0].control_url.to_string() == "http://192.168.1.1:5000/ctl/IPConn");
}

TEST_CASE("controlURL on another host or port is rejected") {
	for (const char *name : {"desc_controlurl_other_host.xml", "desc_controlurl_other_port.xml",
	                         "desc_urlbase_other_host.xml"}) {
		CAPTURE(name);
		auto d = parse_fixture(name);
		REQUIRE_FALSE(d.ok());
		CHECK(d.error() == Errc::unsupported);
		CHECK(d.error().context().find("is not on the device at 192.168.1.1:5000") !=
		      std::string::npos);
	}
}

TEST_CASE("A foreign controlURL is dropped and reported, the good one kept") {
	auto d = parse_fixture("desc_controlurl_mixed_hosts.xml");
	REQUIRE(d.ok());
	REQUIRE(d->services.size() == 1);
	CHECK(d->services[0].version == 1);
	CHECK(d->services[0].control_url.to_string() == "http://192.168.1.1:5000/ctl/IPConn");
	REQUIRE(d->dropped.size() == 1);
	CHECK(d->dropped[0].find("http://198.51.100.7/ctl/IPConn") != std::string::npos);
	CHECK(d->dropped[0].find("WANIPConnection:2") != std::string::npos);
}

TEST_CASE("No WAN*Connection service: unsupported") {
	auto d = parse_fixture("desc_no_wan_connection.xml");
	REQUIRE_FALSE(d.ok());
	CHECK(d.error() == Errc::unsupported);
}

TEST_CASE("Whitespace around values; predefined and numeric references decoded") {
	auto d = parse_fixture("desc_padded_values.xml");
	REQUIRE(d.ok());
	CHECK(d->friendly_name == "plum & co \xE2\x98\xBA");
	REQUIRE(d->services.size() == 1);
	CHECK(d->services[0].control_url.path == "/ctl/IPConn");
}

TEST_CASE("Billion laughs: a DOCTYPE is refused, quickly, without expansion") {
	const auto start = std::chrono::steady_clock::now();
	auto d = parse_fixture("desc_billion_laughs.xml");
	const auto took = std::chrono::steady_clock::now() - start;
	REQUIRE_FALSE(d.ok());
	CHECK(d.error() == Errc::malformed);
	CHECK(d.error().context().find("DOCTYPE") != std::string::npos);
	CHECK(took < std::chrono::seconds(1));
}

TEST_CASE("An undeclared entity stays literal text") {
	auto d = parse_fixture("desc_undeclared_entity.xml");
	REQUIRE(d.ok());
	CHECK(d->friendly_name == "&lol9; router");
}

TEST_CASE("Over 64 KiB: too_large, before parsing") {
	const std::string xml = read_fixture("quirks/desc_oversized.xml");
	REQUIRE(xml.size() > 64 * 1024);
	auto d = parse_description(xml, location());
	REQUIRE_FALSE(d.ok());
	CHECK(d.error() == Errc::too_large);
	// The same document cut to the limit is not refused for its size.
	auto cut = parse_description(std::string_view(xml).substr(0, 64 * 1024), location());
	REQUIRE_FALSE(cut.ok());
	CHECK(cut.error() == Errc::malformed);
}

TEST_CASE("deviceList nesting beyond the depth bound is not walked") {
	auto d = parse_fixture("desc_deep_nesting.xml");
	REQUIRE_FALSE(d.ok());
	CHECK(d.error() == Errc::unsupported);
}

TEST_CASE("Malformed inputs") {
	const http::Url loc = location();
	CHECK(parse_description("", loc).error() == Errc::malformed);
	CHECK(parse_description("<root><device>", loc).error() == Errc::malformed);
	CHECK(parse_description("<html><body>hi</body></html>", loc).error() == Errc::malformed);
	CHECK(parse_description("<root><specVersion/></root>", loc).error() == Errc::malformed);
	// Only the first 64 KiB would ever be read: a huge input costs nothing.
	CHECK(parse_description(std::string(1 << 20, '<'), loc).error() == Errc::too_large);
}

TEST_CASE("Service types are matched exactly, ignoring case; unknown ones ignored") {
	const http::Url loc = location();
	auto doc = [](std::string_view type, std::string_view control = "/c") {
		return "<root><device><serviceList><service><serviceType>" + std::string(type) +
		       "</serviceType><controlURL>" + std::string(control) +
		       "</controlURL></service></serviceList></device></root>";
	};
	auto d = parse_description(doc("URN:SCHEMAS-UPNP-ORG:SERVICE:WANIPCONNECTION:2"), loc);
	REQUIRE(d.ok());
	CHECK(d->services[0].version == 2);
	// No InternetGatewayDevice in the tree: the version follows the services.
	CHECK(d->igd_version == 2);
	for (const char *bad : {"urn:schemas-upnp-org:service:WANIPConnection:",
	                        "urn:schemas-upnp-org:service:WANIPConnection:0",
	                        "urn:schemas-upnp-org:service:WANIPConnection:1x",
	                        "urn:schemas-upnp-org:service:WANIPConnection:1\"\r\nX: y",
	                        "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"}) {
		CAPTURE(bad);
		CHECK(parse_description(doc(bad), loc).error() == Errc::unsupported);
	}
	// An empty or unusable controlURL drops the service with a reason.
	auto empty = parse_description(doc(ip1, ""), loc);
	REQUIRE_FALSE(empty.ok());
	CHECK(empty.error().context().find("no controlURL") != std::string::npos);
	auto https = parse_description(doc(ip1, "https://192.168.1.1:5000/c"), loc);
	REQUIRE_FALSE(https.ok());
	CHECK(https.error().context().find("unusable") != std::string::npos);
}

TEST_CASE("Captured miniupnpd 2.3.1 descriptions (lab fixtures, when present)") {
	namespace fs = std::filesystem;
	const fs::path dir = fs::path(PLUM_FIXTURES_DIR) / "miniupnpd-2.3.1";
	if (!fs::is_directory(dir))
		return;
	// The lab router: 192.168.77.1, HTTP on port 5000, no URLBase.
	const http::Url loc = location("http://192.168.77.1:5000/rootDesc.xml");
	int parsed = 0;
	for (const auto &e : fs::directory_iterator(dir)) {
		const std::string name = e.path().filename().string();
		if (!name.ends_with("-root-desc.xml"))
			continue;
		CAPTURE(name);
		auto d = parse_description(read_fixture("miniupnpd-2.3.1/" + name), loc);
		REQUIRE(d.ok());
		REQUIRE(d->services.size() == 1);
		const Service &s = d->services[0];
		CHECK_FALSE(s.ppp);
		CHECK(s.control_url.to_string() == "http://192.168.77.1:5000/ctl/IPConn");
		// igd1-* is miniupnpd forced to describe itself as IGDv1: no v2 actions.
		const int expected = name.rfind("igd1-", 0) == 0 ? 1 : 2;
		CHECK(d->igd_version == expected);
		CHECK(s.version == expected);
		// miniupnpd sends no URLBase and absolute-path controlURLs, so the
		// control URL follows wherever the description was fetched from.
		auto other = parse_description(read_fixture("miniupnpd-2.3.1/" + name),
		                               location("http://192.168.77.1:49152/rootDesc.xml"));
		REQUIRE(other.ok());
		CHECK(other->services[0].control_url.port == 49152);
		++parsed;
	}
	MESSAGE("miniupnpd descriptions parsed: " << parsed);
}

TEST_CASE("usable services from one description are capped; every UDN is kept") {
	std::string services;
	for (int i = 0; i < 40; ++i)
		services += "<service><serviceType>" + ip1 + "</serviceType><serviceId>id" +
		            std::to_string(i) + "</serviceId><controlURL>/ctl/" + std::to_string(i) +
		            "</controlURL></service>";
	const std::string xml =
	    "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device>"
	    "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>"
	    "<UDN>uuid:aaaa</UDN><deviceList><device>"
	    "<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><UDN>uuid:bbbb</UDN>"
	    "<serviceList>" +
	    services + "</serviceList></device></deviceList></device></root>";
	auto d = parse_description(xml, location());
	REQUIRE_MESSAGE(d.ok(), d.error().message());
	// A probe asks each usable service for its status: hundreds listed
	// must not mean hundreds of SOAP calls.
	CHECK(d->services.size() == kMaxServices);
	CHECK(d->services.back().control_url.path == "/ctl/" + std::to_string(kMaxServices - 1));
	CHECK(d->udns == std::vector<std::string>{"uuid:aaaa", "uuid:bbbb"});
}
