#include "http/url.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace plum;
using namespace plum::http;

TEST_CASE("parse_url accepts the URLs routers send") {
	struct Case {
		const char *in;
		const char *host;
		uint16_t port;
		const char *path;
	};
	const Case cases[] = {
	    {"http://192.168.1.1:5000/rootDesc.xml", "192.168.1.1", 5000, "/rootDesc.xml"},
	    {"http://10.0.0.1/", "10.0.0.1", 80, "/"},
	    {"http://10.0.0.1", "10.0.0.1", 80, "/"},
	    {"HTTP://Router.LAN:49152/upnp/IGD.xml", "router.lan", 49152, "/upnp/IGD.xml"},
	    {"http://192.168.0.1:1900/ctl?x=1&y=%20", "192.168.0.1", 1900, "/ctl?x=1&y=%20"},
	    {"http://192.168.0.1?q", "192.168.0.1", 80, "/?q"},
	    {"http://192.168.0.1/a#frag", "192.168.0.1", 80, "/a"},
	    {"http://192.168.0.1:65535/uuid:1234/WANIPConn1", "192.168.0.1", 65535,
	     "/uuid:1234/WANIPConn1"},
	    {"http://fritz.box:49000/igddesc.xml", "fritz.box", 49000, "/igddesc.xml"},
	};
	for (const auto &c : cases) {
		CAPTURE(c.in);
		auto url = parse_url(c.in);
		REQUIRE(url.ok());
		CHECK(url->host == c.host);
		CHECK(url->port == c.port);
		CHECK(url->path == c.path);
	}
}

TEST_CASE("parse_url refuses what is not a plain http URL") {
	const char *cases[] = {
	    "",
	    "https://192.168.1.1/",
	    "ftp://192.168.1.1/",
	    "http:/192.168.1.1/",
	    "http://",
	    "http:///path",
	    "http://user:pw@192.168.1.1/",
	    "http://@192.168.1.1/",
	    "http://[::1]:80/",
	    "http://192.168.1.1:0/",
	    "http://192.168.1.1:65536/",
	    "http://192.168.1.1:99999999999/",
	    "http://192.168.1.1:/",
	    "http://192.168.1.1:8a/",
	    "http://192.168.1.1:-1/",
	    "http://192.168.1.1/a b",
	    "http://192.168.1.1/a#frag with space",
	    "http://192.168.1.1/a\r\nHost: evil",
	    "http://192.168.1.1/\t",
	    "http://192.168.1.1/\x7f",
	    "http://192.168.1.1/\xc3\xa9",
	    "http://256.1.1.1/",
	    "http://1.2.3/",
	    "http://1.2.3.4.5/",
	    "http://01.2.3.4/",
	    "http://host..lan/",
	    "http://.lan/",
	    "http://host.lan./",
	    "http://ho$t/",
	    " http://192.168.1.1/",
	};
	for (const char *c : cases) {
		CAPTURE(c);
		auto url = parse_url(c);
		REQUIRE_FALSE(url.ok());
		CHECK(url.error() == Errc::malformed);
	}
	std::string nul("http://192.168.1.1/a\0b", 23);
	CHECK_FALSE(parse_url(nul).ok());
}

TEST_CASE("parse_url bounds its input") {
	std::string ok = "http://192.168.1.1/" + std::string(kMaxUrlLength - 19, 'a');
	REQUIRE(ok.size() == kMaxUrlLength);
	CHECK(parse_url(ok).ok());
	auto too_long = parse_url(ok + "a");
	REQUIRE_FALSE(too_long.ok());
	CHECK(too_long.error() == Errc::too_large);
}

TEST_CASE("Url prints itself and its Host header, omitting port 80") {
	Url a{"192.168.1.1", 80, "/x?y"};
	CHECK(a.to_string() == "http://192.168.1.1/x?y");
	CHECK(a.host_header() == "192.168.1.1");
	Url b{"192.168.1.1", 5000, "/"};
	CHECK(b.to_string() == "http://192.168.1.1:5000/");
	CHECK(b.host_header() == "192.168.1.1:5000");
	auto round = parse_url(b.to_string());
	REQUIRE(round.ok());
	CHECK(*round == b);
}

TEST_CASE("remove_dot_segments follows RFC 3986 5.2.4") {
	CHECK(remove_dot_segments("/a/b/c/./../../g") == "/a/g");
	CHECK(remove_dot_segments("mid/content=5/../6") == "mid/6");
	CHECK(remove_dot_segments("/../../x") == "/x");
	CHECK(remove_dot_segments("/a/.") == "/a/");
	CHECK(remove_dot_segments("/a/..") == "/");
	CHECK(remove_dot_segments("/a/b/") == "/a/b/");
	CHECK(remove_dot_segments("") == "");
}

TEST_CASE("resolve_url: the RFC 3986 5.4 examples that apply to http") {
	auto base = parse_url("http://a/b/c/d;p?q");
	REQUIRE(base.ok());
	struct Case {
		const char *ref;
		const char *expected;
	};
	const Case cases[] = {
	    {"g", "http://a/b/c/g"},      {"./g", "http://a/b/c/g"},
	    {"g/", "http://a/b/c/g/"},    {"/g", "http://a/g"},
	    {"//g", "http://g/"},         {"?y", "http://a/b/c/d;p?y"},
	    {"g?y", "http://a/b/c/g?y"},  {"#s", "http://a/b/c/d;p?q"},
	    {"g#s", "http://a/b/c/g"},    {";x", "http://a/b/c/;x"},
	    {"", "http://a/b/c/d;p?q"},   {".", "http://a/b/c/"},
	    {"./", "http://a/b/c/"},      {"..", "http://a/b/"},
	    {"../", "http://a/b/"},       {"../g", "http://a/b/g"},
	    {"../..", "http://a/"},       {"../../g", "http://a/g"},
	    {"../../../g", "http://a/g"}, {"../../../../g", "http://a/g"},
	    {"/./g", "http://a/g"},       {"/../g", "http://a/g"},
	    {"g.", "http://a/b/c/g."},    {"..g", "http://a/b/c/..g"},
	    {"./../g", "http://a/b/g"},   {"g;x=1/../y", "http://a/b/c/y"},
	};
	for (const auto &c : cases) {
		CAPTURE(c.ref);
		auto r = resolve_url(*base, c.ref);
		REQUIRE(r.ok());
		CHECK(r->to_string() == c.expected);
	}
}

TEST_CASE("resolve_url: what UPnP descriptions contain") {
	auto base = parse_url("http://192.168.1.1:5000/rootDesc.xml");
	REQUIRE(base.ok());
	struct Case {
		const char *ref;
		const char *expected;
	};
	const Case cases[] = {
	    {"/ctl/IPConn", "http://192.168.1.1:5000/ctl/IPConn"},
	    {"ctl/IPConn", "http://192.168.1.1:5000/ctl/IPConn"},
	    {"  /ctl/IPConn\n", "http://192.168.1.1:5000/ctl/IPConn"},
	    {"http://192.168.1.1:5000/ctl/IPConn", "http://192.168.1.1:5000/ctl/IPConn"},
	    {"http://192.168.1.1:49000/upnp/control/WANIPConn1",
	     "http://192.168.1.1:49000/upnp/control/WANIPConn1"},
	    {"HTTP://192.168.1.1:5000/x", "http://192.168.1.1:5000/x"},
	};
	for (const auto &c : cases) {
		CAPTURE(c.ref);
		auto r = resolve_url(*base, c.ref);
		REQUIRE(r.ok());
		CHECK(r->to_string() == c.expected);
	}
	auto nested = parse_url("http://192.168.1.1:5000/desc/igd/root.xml");
	REQUIRE(nested.ok());
	auto r = resolve_url(*nested, "../ctl/WANIP");
	REQUIRE(r.ok());
	CHECK(r->path == "/desc/ctl/WANIP");
}

TEST_CASE("resolve_url refuses references it cannot use, as Errc::malformed") {
	auto base = parse_url("http://192.168.1.1:5000/rootDesc.xml");
	REQUIRE(base.ok());
	const char *cases[] = {
	    "https://192.168.1.1/ctl",
	    "mailto:x@y",
	    "urn:schemas-upnp-org:service:WANIPConnection:1",
	    "//user@evil/",
	    "ctl/a b",
	    "/ctl\r\nX: y",
	    "http://192.168.1.1:0/",
	    "http:g", // RFC 3986's non-strict "same scheme" form: not for us
	};
	for (const char *c : cases) {
		CAPTURE(c);
		auto r = resolve_url(*base, c);
		REQUIRE_FALSE(r.ok());
		CHECK(r.error() == Errc::malformed);
	}
	auto too_long = resolve_url(*base, std::string(3000, 'a'));
	REQUIRE_FALSE(too_long.ok());
	CHECK(too_long.error() == Errc::malformed);
	// Just under the input bound, but the resolved URL is over it.
	auto grows = resolve_url(*base, std::string(2040, 'a'));
	REQUIRE_FALSE(grows.ok());
	CHECK(grows.error() == Errc::malformed);
}
