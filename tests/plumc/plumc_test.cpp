// plumc end to end: the built binary (path in $PLUMC, from meson) run as a
// child process against the loopback PCP/NAT-PMP responder. Every run
// pins --gateway 127.0.0.1 and the responder's port: nothing leaves
// loopback.
#include "fake_igd.hpp"
#include "mini_json.hpp"
#include "pcp_responder.hpp"
#include "subprocess.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace std::chrono_literals;
using plum::test::FakeIgd;
using plum::test::Json;
using plum::test::JsonParser;
using plum::test::PcpResponder;
using plum::test::Subprocess;

namespace {

std::string plumc_path() {
	const char *p = std::getenv("PLUMC");
	REQUIRE_MESSAGE(p != nullptr, "PLUMC must name the plumc binary");
	return p;
}

struct Run {
	int code = -1;
	std::string out;
	std::string err;
	std::chrono::milliseconds elapsed{0};
};

Run plumc(std::vector<std::string> args, std::chrono::milliseconds timeout = 15s) {
	args.insert(args.begin(), plumc_path());
	Subprocess p(args);
	Run r;
	r.code = p.wait(timeout);
	r.out = p.out();
	r.err = p.err();
	r.elapsed = p.elapsed();
	return r;
}

// The options that keep plumc on loopback, talking to `router`. UPnP is
// left out unless asked for: its search would go to 127.0.0.1:1900.
std::vector<std::string> at(const PcpResponder &router, std::vector<std::string> args,
                            const std::string &protocols = "pcp,natpmp") {
	std::vector<std::string> v = {"--gateway", "127.0.0.1",  "--local",
	                              "127.0.0.1", "--pcp-port", std::to_string(router.port()),
	                              "--timeout", "2000",       "--protocol",
	                              protocols};
	v.insert(v.end(), args.begin(), args.end());
	return v;
}

// The same for UPnP: the search goes to the fake IGD's SSDP port only.
std::vector<std::string> at_igd(const FakeIgd &igd, std::vector<std::string> args) {
	std::vector<std::string> v = {"--gateway",  "127.0.0.1",
	                              "--local",    "127.0.0.1",
	                              "--ssdp",     "127.0.0.1:" + std::to_string(igd.ssdp_port()),
	                              "--timeout",  "3000",
	                              "--protocol", "upnp"};
	v.insert(v.end(), args.begin(), args.end());
	return v;
}

size_t lines(const std::string &s) {
	return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}
bool has(const std::string &s, const std::string &part) {
	return s.find(part) != std::string::npos;
}

uint16_t free_udp_port() {
	asio::io_context io;
	asio::ip::udp::socket s(io, asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0));
	return s.local_endpoint().port();
}

} // namespace

TEST_CASE("--help lists every command and option and exits 0") {
	Run r = plumc({"--help"});
	CHECK(r.code == 0);
	CHECK(r.err.empty());
	for (const char *word :
	     {"map tcp|udp INTERNAL [EXTERNAL]", "unmap tcp|udp INTERNAL [EXTERNAL]", "probe",
	      "local-address", "status", "PLUMC_STATUS_DIR", "--gateway", "--local", "--protocol",
	      "--pcp-port", "--ssdp", "--timeout", "--lifetime", "--hold", "-vv", "--json", "--help",
	      "--version", "nonce"})
		CHECK_MESSAGE(has(r.out, word), word);
	// --help wins over everything else on the line, mistakes included.
	Run r2 = plumc({"map", "sctp", "--help"});
	CHECK(r2.code == 0);
	CHECK(r2.out == r.out);

	Run v = plumc({"--version"});
	CHECK(v.code == 0);
	CHECK(v.out.rfind("plumc ", 0) == 0);
}

TEST_CASE("usage errors: exit 2, one line on stderr with a hint to --help, no packet") {
	PcpResponder router;
	const std::string port = std::to_string(router.port());
	const std::vector<std::vector<std::string>> bad = {
	    {},
	    {"frobnicate"},
	    {"map"},
	    {"map", "tcp"},
	    {"map", "sctp", "80"},
	    {"map", "tcp", "70000"},
	    {"map", "tcp", "0"},
	    {"map", "tcp", "80x"},
	    {"map", "tcp", "80", "65536"},
	    {"map", "tcp", "80", "81", "82"},
	    {"unmap", "udp"},
	    {"probe", "extra"},
	    {"status", "extra"},
	    {"status", "--hold"},
	    {"unmap", "tcp", "80", "--hold"},
	    {"map", "tcp", "80", "--lifetime", "0"},
	    {"map", "tcp", "80", "--frob"},
	    {"map", "tcp", "80", "--gateway", "not-an-address"},
	    {"map", "tcp", "80", "--gateway"},
	    {"map", "tcp", "80", "--protocol", "pcp,smtp"},
	    {"map", "tcp", "80", "--timeout", "-5"},
	    {"map", "tcp", "80", "--ssdp", "127.0.0.1:99999"},
	};
	for (auto args : bad) {
		std::string shown;
		for (auto &a : args)
			shown += a + " ";
		CAPTURE(shown);
		args.insert(args.end(), {"--gateway=127.0.0.1", "--local=127.0.0.1", "--pcp-port", port});
		// The bad --gateway above comes first and is the one reported.
		Run r = plumc(args);
		CHECK(r.code == 2);
		CHECK(r.out.empty());
		CHECK(lines(r.err) == 1);
		CHECK(r.err.rfind("plumc: ", 0) == 0);
		CHECK(has(r.err, "--help"));
	}
	CHECK(router.counters().total() == 0);
	CHECK(has(plumc({"map", "tcp", "70000"}).err, "internal port '70000'"));
	CHECK(has(plumc({"frobnicate"}).err, "unknown command 'frobnicate'"));
}

TEST_CASE("map: one-shot PCP mapping, left on the router") {
	PcpResponder router;
	Run r = plumc(at(router, {"map", "tcp", "8080"}));
	REQUIRE_MESSAGE(r.code == 0, r.err);
	const std::string ext = router.external_address().to_string();
	CHECK(r.out == "TCP 8080 -> " + ext + ":8080 via PCP (lifetime 7200 s)\n");
	CHECK(r.err.empty());
	auto held = router.mappings();
	REQUIRE(held.size() == 1);
	CHECK(held[0].protocol == 6);
	CHECK(held[0].internal_port == 8080);
	CHECK(held[0].external_port == 8080);
	CHECK(held[0].lifetime == 7200);
	CHECK_FALSE(held[0].natpmp);
	CHECK(router.counters().pcp_map == 1);
}

TEST_CASE("map --json, EXTERNAL and --lifetime") {
	PcpResponder router;
	Run r = plumc(at(router, {"--json", "map", "udp", "5000", "5001", "--lifetime", "600"}));
	REQUIRE_MESSAGE(r.code == 0, r.err);
	const std::string ext = router.external_address().to_string();
	CHECK(lines(r.out) == 1);
	CHECK(r.out.front() == '{');
	CHECK(r.out ==
	      "{\"protocol\":\"UDP\",\"internal_port\":5000,\"external_host\":\"" + ext +
	          "\",\"external_port\":5001,\"mapping_protocol\":\"PCP\",\"lifetime\":600}\n");
	auto held = router.mappings();
	REQUIRE(held.size() == 1);
	CHECK(held[0].protocol == 17);
	CHECK(held[0].external_port == 5001);
	CHECK(held[0].lifetime == 600);
}

TEST_CASE("map, map again (a renewal), then unmap: the same nonce every time") {
	PcpResponder router;
	REQUIRE(plumc(at(router, {"map", "tcp", "8080"})).code == 0);
	REQUIRE(router.mappings().size() == 1);
	const auto nonce = router.mappings()[0].nonce;
	CHECK(nonce != decltype(nonce){});

	// A second plumc run renews (PCP refuses another nonce: NOT_AUTHORIZED).
	Run again = plumc(at(router, {"map", "tcp", "8080", "--lifetime", "300"}));
	REQUIRE_MESSAGE(again.code == 0, again.err);
	REQUIRE(router.mappings().size() == 1);
	CHECK(router.mappings()[0].lifetime == 300);
	CHECK(router.mappings()[0].nonce == nonce);

	// Another port: another nonce, another mapping.
	REQUIRE(plumc(at(router, {"map", "tcp", "8081"})).code == 0);
	REQUIRE(router.mappings().size() == 2);
	CHECK(router.mappings()[1].nonce != nonce);

	Run un = plumc(at(router, {"unmap", "tcp", "8080"}));
	REQUIRE_MESSAGE(un.code == 0, un.err);
	CHECK(un.out == "TCP 8080 unmapped via PCP\n");
	REQUIRE(router.mappings().size() == 1);
	CHECK(router.mappings()[0].internal_port == 8081);
	CHECK(router.last_pcp_request()->lifetime == 0);

	Run un_json = plumc(at(router, {"--json", "unmap", "tcp", "8081"}));
	REQUIRE_MESSAGE(un_json.code == 0, un_json.err);
	CHECK(has(un_json.out, "\"mapping_protocol\":\"PCP\""));
	CHECK(has(un_json.out, "\"removed\":true"));
	CHECK(router.mappings().empty());
}

TEST_CASE("probe lists PCP and NAT-PMP with round-trip times and chooses PCP") {
	PcpResponder router;
	const std::string ext = router.external_address().to_string();
	Run r = plumc(at(router, {"probe"}));
	REQUIRE_MESSAGE(r.code == 0, r.err);
	MESSAGE(r.out);
	CHECK(has(r.out, "gateway 127.0.0.1, local address 127.0.0.1\n"));
	CHECK(has(r.out, "PCP      answered in "));
	CHECK(has(r.out, "NAT-PMP  answered in "));
	CHECK(has(r.out, " ms"));
	CHECK(has(r.out, "external address " + ext));
	CHECK(has(r.out, "epoch "));
	CHECK(has(r.out, "chosen: PCP\n"));
	CHECK(has(r.out, "is public: no double NAT"));

	Run j = plumc(at(router, {"--json", "probe"}));
	REQUIRE_MESSAGE(j.code == 0, j.err);
	CHECK(lines(j.out) == 1);
	for (const char *key : {"\"protocols\":[", "\"chosen\":\"PCP\"", "\"gateway\":\"127.0.0.1\"",
	                        "\"local_address\":\"127.0.0.1\"", "\"double_nat\":false",
	                        "\"protocol\":\"PCP\",\"answered\":true,\"rtt_ms\":",
	                        "\"protocol\":\"NAT-PMP\",\"answered\":true,\"rtt_ms\":"})
		CHECK_MESSAGE(has(j.out, key), key);
	CHECK(has(j.out, "\"external_address\":\"" + ext + "\""));
	CHECK(router.mappings().empty()); // a probe maps nothing
}

TEST_CASE("probe: a private external address is reported as double NAT") {
	PcpResponder router;
	router.set_external_address(asio::ip::make_address_v4("100.64.7.9"));
	Run r = plumc(at(router, {"probe"}));
	REQUIRE_MESSAGE(r.code == 0, r.err);
	CHECK(has(r.out, "100.64.7.9 is carrier-grade NAT"));
	Run j = plumc(at(router, {"--json", "probe"}));
	CHECK(has(j.out, "\"double_nat\":true,\"cgnat\":true"));

	router.set_external_address(asio::ip::make_address_v4("192.168.50.2"));
	Run p = plumc(at(router, {"--json", "probe"}));
	CHECK(has(p.out, "\"external_address\":\"192.168.50.2\",\"double_nat\":true,\"cgnat\":false"));
}

TEST_CASE("--protocol natpmp forces NAT-PMP for map and unmap") {
	PcpResponder router;
	Run r = plumc(at(router, {"map", "udp", "4000"}, "natpmp"));
	REQUIRE_MESSAGE(r.code == 0, r.err);
	const std::string ext = router.external_address().to_string();
	CHECK(r.out == "UDP 4000 -> " + ext + ":4000 via NAT-PMP (lifetime 7200 s)\n");
	REQUIRE(router.mappings().size() == 1);
	CHECK(router.mappings()[0].natpmp);
	CHECK(router.counters().pcp_announce + router.counters().pcp_map == 0);

	Run un = plumc(at(router, {"unmap", "udp", "4000"}, "natpmp"));
	REQUIRE_MESSAGE(un.code == 0, un.err);
	CHECK(un.out == "UDP 4000 unmapped via NAT-PMP\n");
	CHECK(router.mappings().empty());
}

TEST_CASE("a NAT-PMP-only router: probe says why PCP failed, map falls back") {
	PcpResponder router;
	router.set_mode(PcpResponder::Mode::NatPmpOnly);
	Run p = plumc(at(router, {"probe"}));
	REQUIRE_MESSAGE(p.code == 0, p.err);
	CHECK(has(p.out, "PCP      failed after "));
	CHECK(has(p.out, "not supported"));
	CHECK(has(p.out, "chosen: NAT-PMP\n"));

	Run m = plumc(at(router, {"map", "tcp", "9000"}));
	REQUIRE_MESSAGE(m.code == 0, m.err);
	CHECK(has(m.out, "via NAT-PMP"));
	REQUIRE(router.mappings().size() == 1);
	CHECK(router.mappings()[0].natpmp);
}

TEST_CASE("a silent router: exit 1 within the timeout, one clear line") {
	PcpResponder router;
	router.set_mode(PcpResponder::Mode::Silent);
	for (const char *command : {"map", "unmap", "probe"}) {
		CAPTURE(command);
		std::vector<std::string> args = {"--timeout", "800", command};
		if (std::string(command) != "probe")
			args.insert(args.end(), {"tcp", "8080"});
		Run r = plumc(at(router, args));
		CHECK(r.code == 1);
		// The discover timeout plus process start-up, far below 2 x timeout + slack.
		CHECK(r.elapsed < 3000ms);
		if (std::string(command) == "probe") {
			CHECK(has(r.out, "chosen: none"));
			continue;
		}
		MESSAGE(r.err);
		CHECK(r.out.empty());
		CHECK(lines(r.err) == 1);
		CHECK(r.err.rfind(std::string("plumc: ") + command + ": ", 0) == 0);
		CHECK(has(r.err, "no port-mapping protocol answered"));
	}
	CHECK(router.counters().total() > 0);
}

TEST_CASE("nothing listens on the port: exit 1 at once (ICMP port unreachable)") {
	PcpResponder router;
	router.close();
	Run r = plumc(at(router, {"map", "tcp", "8080"}));
	MESSAGE(r.err);
	CHECK(r.code == 1);
	CHECK(lines(r.err) == 1);
	CHECK(has(r.err, "plumc: map: "));
	CHECK(r.elapsed < 1500ms);
}

TEST_CASE("the router refuses: the PCP result code is in the error") {
	PcpResponder router;
	router.force_pcp_result(plum::pcp::PcpResult::NoResources, 1, 8080);
	Run r = plumc(at(router, {"map", "tcp", "8080"}));
	CHECK(r.code == 1);
	CHECK(lines(r.err) == 1);
	CHECK(has(r.err, "plumc: map: PCP: "));
	CHECK(has(r.err, "NO_RESOURCES"));
	CHECK(router.mappings().empty());
}

TEST_CASE("map --hold: prints the mapping, holds it, removes it on SIGTERM") {
	PcpResponder router;
	const std::string announce = std::to_string(free_udp_port());
	auto args = at(router, {"--announce-port", announce, "map", "tcp", "7000", "--hold"});
	args.insert(args.begin(), plumc_path());
	Subprocess p(args);
	const std::string ext = router.external_address().to_string();
	const std::string line = "SUCCESS TCP 7000 -> " + ext + ":7000 via PCP\n";
	REQUIRE_MESSAGE(p.read_until([&] { return has(p.out(), line); }, 8s), p.err());
	REQUIRE(router.mappings().size() == 1);
	CHECK(router.mappings()[0].internal_port == 7000);

	p.signal(SIGTERM);
	const int code = p.wait(10s);
	CHECK_MESSAGE(code == 0, p.err());
	CHECK(p.elapsed() < 10s);
	CHECK(router.mappings().empty());
	CHECK(has(p.out(), "DESTROYED TCP 7000\n"));
	CHECK(p.err().empty());
}

TEST_CASE("map --hold --json: one object per line; SIGINT works too") {
	PcpResponder router;
	const std::string announce = std::to_string(free_udp_port());
	auto args = at(router, {"--json", "--announce-port", announce, "map", "udp", "7001", "--hold"},
	               "natpmp");
	args.insert(args.begin(), plumc_path());
	Subprocess p(args);
	REQUIRE_MESSAGE(p.read_until([&] { return has(p.out(), "\n"); }, 8s), p.err());
	CHECK(p.out().rfind("{\"state\":\"SUCCESS\",\"protocol\":\"UDP\",\"internal_port\":7001,", 0) ==
	      0);
	CHECK(has(p.out(), "\"mapping_protocol\":\"NAT-PMP\"}\n"));
	REQUIRE(router.mappings().size() == 1);
	p.signal(SIGINT);
	CHECK(p.wait(10s) == 0);
	CHECK(router.mappings().empty());
	CHECK(has(p.out(), "{\"state\":\"DESTROYED\""));
	for (size_t pos = 0; pos < p.out().size();) {
		const size_t end = p.out().find('\n', pos);
		REQUIRE(end != std::string::npos);
		CHECK(p.out()[pos] == '{');
		CHECK(p.out()[end - 1] == '}');
		pos = end + 1;
	}
}

TEST_CASE("map --hold against a silent router: exit 1 with the reason") {
	PcpResponder router;
	router.set_mode(PcpResponder::Mode::Silent);
	const std::string announce = std::to_string(free_udp_port());
	Run r = plumc(at(
	    router, {"--timeout", "600", "--announce-port", announce, "map", "tcp", "7002", "--hold"}));
	MESSAGE(r.err);
	CHECK(r.code == 1);
	CHECK(lines(r.err) == 1);
	CHECK(has(r.err, "plumc: map: "));
	CHECK(r.elapsed < 6s);
}

TEST_CASE("local-address") {
	Run r = plumc({"--gateway", "127.0.0.1", "--local", "127.0.0.1", "local-address"});
	CHECK(r.code == 0);
	CHECK(r.out == "127.0.0.1\n");
	// Without --local: the address the kernel would use towards the gateway
	// (a connected UDP socket, which sends nothing).
	Run k = plumc({"--gateway", "127.0.0.1", "--json", "local-address"});
	CHECK(k.code == 0);
	CHECK(k.out == "{\"local_address\":\"127.0.0.1\"}\n");
}

TEST_CASE("UPnP through the fake IGD: probe, map, unmap by external port") {
	FakeIgd igd;
	igd.set_external_ip(asio::ip::make_address_v4("198.51.100.7"));
	Run p = plumc(at_igd(igd, {"probe"}));
	REQUIRE_MESSAGE(p.code == 0, p.err);
	CHECK(has(p.out, "UPnP     answered in "));
	CHECK(has(p.out, "external address 198.51.100.7"));
	CHECK(has(p.out, "WANIPConnection"));
	CHECK(has(p.out, "chosen: UPnP\n"));

	Run m = plumc(at_igd(igd, {"map", "tcp", "8080"}));
	REQUIRE_MESSAGE(m.code == 0, m.err);
	CHECK(m.out == "TCP 8080 -> 198.51.100.7:8080 via UPnP (lifetime 7200 s)\n");
	auto held = igd.mapping(8080, "TCP");
	REQUIRE(held);
	CHECK(held->internal_port == 8080);
	CHECK(held->internal_client == "127.0.0.1");
	CHECK(held->description == "plumc");

	Run m2 = plumc(at_igd(igd, {"--json", "map", "udp", "5000", "5999"}));
	REQUIRE_MESSAGE(m2.code == 0, m2.err);
	CHECK(has(m2.out, "\"external_port\":5999,\"mapping_protocol\":\"UPnP\""));
	REQUIRE(igd.mapping(5999, "UDP"));

	Run u = plumc(at_igd(igd, {"unmap", "tcp", "8080"}));
	REQUIRE_MESSAGE(u.code == 0, u.err);
	CHECK(u.out == "TCP 8080 unmapped via UPnP (external port 8080)\n");
	CHECK_FALSE(igd.mapping(8080, "TCP"));
	Run u2 = plumc(at_igd(igd, {"unmap", "udp", "5000", "5999"}));
	REQUIRE_MESSAGE(u2.code == 0, u2.err);
	CHECK(igd.mappings().empty());
	CHECK(igd.count("DeletePortMapping") == 2);
}

TEST_CASE("UPnP: a router with permanent leases only") {
	FakeIgd igd;
	igd.set_permanent_only(true);
	Run m = plumc(at_igd(igd, {"map", "tcp", "8080"}));
	REQUIRE_MESSAGE(m.code == 0, m.err);
	CHECK(has(m.out, "via UPnP (permanent lease)\n"));
	REQUIRE(igd.mapping(8080, "TCP"));
	CHECK(igd.mapping(8080, "TCP")->lease == 0);
}

TEST_CASE("all three protocols at once: probe lists each, PCP is chosen and maps") {
	PcpResponder router;
	FakeIgd igd;
	const std::vector<std::string> where = {
	    "--gateway",  "127.0.0.1",
	    "--local",    "127.0.0.1",
	    "--ssdp",     "127.0.0.1:" + std::to_string(igd.ssdp_port()),
	    "--timeout",  "3000",
	    "--pcp-port", std::to_string(router.port())};
	auto with = [&](std::vector<std::string> args) {
		args.insert(args.begin(), where.begin(), where.end());
		return args;
	};
	Run p = plumc(with({"--json", "probe"}));
	REQUIRE_MESSAGE(p.code == 0, p.err);
	CHECK(has(p.out, "{\"protocol\":\"PCP\",\"answered\":true"));
	CHECK(has(p.out, "{\"protocol\":\"NAT-PMP\",\"answered\":true"));
	CHECK(has(p.out, "{\"protocol\":\"UPnP\",\"answered\":true"));
	CHECK(has(p.out, "\"chosen\":\"PCP\""));

	Run m = plumc(with({"map", "tcp", "8080"}));
	REQUIRE_MESSAGE(m.code == 0, m.err);
	CHECK(has(m.out, "via PCP"));
	CHECK(router.mappings().size() == 1);
	CHECK(igd.mappings().empty());
}

namespace {

// Every line of `out`, each parsed as one JSON object (a test failure if not).
std::vector<Json> json_lines(const std::string &out) {
	std::vector<Json> v;
	for (size_t pos = 0; pos < out.size();) {
		size_t end = out.find('\n', pos);
		if (end == std::string::npos)
			end = out.size();
		auto j = JsonParser::parse(std::string_view(out).substr(pos, end - pos));
		CHECK_MESSAGE(j, out.substr(pos, end - pos));
		if (j)
			v.push_back(std::move(*j));
		pos = end + 1;
	}
	return v;
}

const Json *protocol_entry(const Json &probe, const std::string &name) {
	for (const auto &e : probe["protocols"].array)
		if (e["protocol"].str() == name)
			return &e;
	return nullptr;
}

} // namespace

TEST_CASE("probe --json against the mock router: every field, parsed") {
	PcpResponder router;
	router.set_epoch(4242);
	FakeIgd igd;
	igd.set_igd_version(2);
	igd.set_external_ip(router.external_address());
	Run p = plumc({"--gateway", "127.0.0.1", "--local", "127.0.0.1", "--ssdp",
	               "127.0.0.1:" + std::to_string(igd.ssdp_port()), "--timeout", "3000",
	               "--pcp-port", std::to_string(router.port()), "--json", "probe"});
	REQUIRE_MESSAGE(p.code == 0, p.err);
	auto j = JsonParser::parse(p.out);
	REQUIRE_MESSAGE(j, p.out);
	CHECK((*j)["gateway"].str() == "127.0.0.1");
	CHECK((*j)["local_address"].str() == "127.0.0.1");
	CHECK_FALSE((*j)["direct"].flag());
	CHECK((*j)["chosen"].str() == "PCP");
	CHECK((*j)["external_address"].str() == router.external_address().to_string());
	CHECK((*j)["verdict"].str() == "public");
	CHECK_FALSE((*j)["double_nat"].flag());
	CHECK_FALSE((*j)["cgnat"].flag());
	CHECK((*j)["protocols"].array.size() == 3);

	const Json *pcp = protocol_entry(*j, "PCP");
	REQUIRE(pcp);
	CHECK((*pcp)["answered"].flag());
	CHECK((*pcp)["epoch"].integer() >= 4242);
	CHECK((*pcp)["epoch"].integer() < 4242 + 60);
	CHECK((*pcp)["rtt_ms"].number >= 0);
	CHECK((*pcp)["rtt_ms"].number < 3000);
	CHECK_FALSE(pcp->has("upnp"));

	const Json *pmp = protocol_entry(*j, "NAT-PMP");
	REQUIRE(pmp);
	CHECK((*pmp)["answered"].flag());
	CHECK((*pmp)["external_address"].str() == router.external_address().to_string());
	CHECK((*pmp)["epoch"].integer() >= 4242);

	const Json *upnp = protocol_entry(*j, "UPnP");
	REQUIRE(upnp);
	CHECK((*upnp)["answered"].flag());
	CHECK((*upnp)["external_address"].str() == router.external_address().to_string());
	CHECK_FALSE(upnp->has("epoch"));
	const Json &dev = (*upnp)["upnp"];
	CHECK(dev["friendly_name"].str() == "plum fake IGD");
	CHECK(dev["manufacturer"].str() == "plum tests");
	CHECK(dev["model_name"].str() == "FakeIgd");
	CHECK(dev["model_number"].str() == "2");
	CHECK(dev["igd_version"].integer() == 2);
	CHECK(dev["device_type"].str() == "urn:schemas-upnp-org:device:InternetGatewayDevice:2");
	CHECK(dev["service_type"].str() == "urn:schemas-upnp-org:service:WANIPConnection:2");
	CHECK(dev["control_url"].str().rfind(
	          "http://127.0.0.1:" + std::to_string(igd.http_port()) + "/", 0) == 0);
	bool listed = false;
	for (const auto &svc : dev["services"].array)
		listed = listed || svc.str() == "urn:schemas-upnp-org:service:WANIPConnection:2";
	CHECK(listed);
}

TEST_CASE("probe --json: carrier-grade and private external addresses get their verdict") {
	PcpResponder router;
	router.set_external_address(asio::ip::make_address_v4("100.64.3.4"));
	Run p = plumc(at(router, {"--json", "probe"}, "natpmp"));
	REQUIRE_MESSAGE(p.code == 0, p.err);
	auto j = JsonParser::parse(p.out);
	REQUIRE(j);
	CHECK((*j)["external_address"].str() == "100.64.3.4");
	CHECK((*j)["verdict"].str() == "cgnat");
	CHECK((*j)["double_nat"].flag());
	CHECK((*j)["cgnat"].flag());

	router.set_external_address(asio::ip::make_address_v4("192.168.50.2"));
	Run q = plumc(at(router, {"--json", "probe"}, "natpmp"));
	REQUIRE_MESSAGE(q.code == 0, q.err);
	auto k = JsonParser::parse(q.out);
	REQUIRE(k);
	CHECK((*k)["verdict"].str() == "double_nat");
	CHECK_FALSE((*k)["cgnat"].flag());
}

TEST_CASE("map --hold --json prints the counters; plumc status lists the holder") {
	namespace fs = std::filesystem;
	const char *dir_env = std::getenv("PLUMC_STATUS_DIR");
	REQUIRE_MESSAGE(dir_env != nullptr, "meson sets PLUMC_STATUS_DIR for this test");
	const std::string dir = dir_env;
	PcpResponder router;
	router.drop_next(1); // one retransmission to count
	const std::string announce = std::to_string(free_udp_port());
	auto args = at(
	    router,
	    {"--json", "--announce-port", announce, "map", "tcp", "7010", "--hold", "--lifetime", "2"},
	    "pcp");
	args.insert(args.begin(), plumc_path());
	Subprocess p(args);
	// The mapping, then a stats line after it.
	REQUIRE_MESSAGE(p.read_until([&] { return has(p.out(), "{\"stats\":"); }, 10s), p.err());
	const std::string pid = std::to_string(p.pid());
	const std::string file = dir + "/" + pid + ".status";
	CHECK(fs::exists(file));

	// plumc status, as another process: it reads the holder's file. Wait
	// for a renewal (lifetime 2 s: one every ~1 s) to show there.
	bool renewed = false;
	Json holder;
	for (int i = 0; i < 40 && !renewed; ++i) {
		Run st = plumc({"status", "--json"});
		REQUIRE_MESSAGE(st.code == 0, st.err);
		auto j = JsonParser::parse(st.out);
		REQUIRE_MESSAGE(j, st.out);
		for (const auto &h : (*j)["holders"].array)
			if (std::to_string(h["pid"].integer()) == pid) {
				holder = h;
				renewed = h["stats"]["protocols"]["PCP"]["renewals"].integer() >= 1;
			}
		if (!renewed)
			std::this_thread::sleep_for(100ms);
	}
	CHECK(renewed);
	REQUIRE(holder.has("stats"));
	const Json &stats = holder["stats"];
	CHECK(stats["active"].str() == "PCP");
	CHECK(stats["gateway"].str() == "127.0.0.1");
	CHECK(stats["protocols"]["PCP"]["retransmissions"].integer() >= 1);
	CHECK(stats["protocols"]["PCP"]["results"]["SUCCESS"].integer() >= 2);
	REQUIRE(stats["mappings"].array.size() == 1);
	CHECK(stats["mappings"][0]["internal_port"].integer() == 7010);
	CHECK(stats["mappings"][0]["state"].str() == "SUCCESS");
	CHECK(stats["mappings"][0]["renewals"].integer() >= 1);
	CHECK(stats["mappings"][0]["age_ms"].integer() > 0);

	Run text = plumc({"status"});
	CHECK(text.code == 0);
	CHECK(has(text.out, "plumc map --hold, pid " + pid + ":\n"));
	CHECK(has(text.out, "mapping 0: SUCCESS TCP 7010 -> "));

	p.signal(SIGTERM);
	CHECK(p.wait(10s) == 0);
	CHECK(router.mappings().empty());
	CHECK_FALSE(fs::exists(file));
	// Every line is one JSON object: states, and a stats object after each
	// change and at exit.
	auto lines_json = json_lines(p.out());
	REQUIRE(lines_json.size() >= 4);
	CHECK(lines_json.front()["state"].str() == "SUCCESS");
	CHECK(lines_json[1].has("stats"));
	CHECK(lines_json[lines_json.size() - 2]["state"].str() == "DESTROYED");
	const Json &last = lines_json.back()["stats"];
	CHECK(last["mappings"].array.empty());
	CHECK(last["protocols"]["PCP"]["renewals"].integer() >= 1);
	Run after = plumc({"status", "--json"});
	CHECK(!has(after.out, "\"pid\":" + pid + ","));
}
