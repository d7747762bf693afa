// plumc's pure parts, in-process: argument parsing, the one-shot PCP
// nonce, and the output formats.
#include "mini_json.hpp"
#include "nonce.hpp"
#include "options.hpp"
#include "output.hpp"
#include "status.hpp"
#include "status_os.hpp"

#if !defined(_WIN32)
#include <unistd.h>
#endif

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

using namespace plum;
using namespace plum::plumc;
using namespace std::chrono_literals;

namespace {

Result<Options> parse(std::vector<std::string> args) {
	return parse_options(args);
}

std::string why(std::vector<std::string> args) {
	auto r = parse_options(args);
	return r ? std::string("(accepted)") : r.error().context();
}

} // namespace

TEST_CASE("options: map with everything, in any order") {
	auto r = parse({"--gateway",
	                "192.168.1.1",
	                "map",
	                "--local=192.168.1.20",
	                "udp",
	                "5000",
	                "6000",
	                "--lifetime",
	                "600",
	                "-vv",
	                "--json",
	                "--protocol",
	                "pcp,natpmp",
	                "--protocol",
	                "upnp",
	                "--pcp-port",
	                "15351",
	                "--ssdp",
	                "192.168.1.1:1901",
	                "--timeout",
	                "1500",
	                "--announce-port=15350"});
	REQUIRE_MESSAGE(r.ok(), r.error().context());
	const Options &o = *r;
	CHECK(o.command == Command::Map);
	CHECK(o.protocol == IpProtocol::Udp);
	CHECK(o.internal_port == 5000);
	CHECK(o.external_port == std::optional<uint16_t>(6000));
	CHECK(o.lifetime == std::optional<uint32_t>(600));
	CHECK_FALSE(o.hold);
	CHECK(o.verbosity == 2);
	CHECK(o.json);
	CHECK(o.protocols == (kUsePcp | kUseNatPmp | kUseUpnp));

	Config c = make_config(o);
	CHECK(c.gateway_address == "192.168.1.1");
	CHECK(c.local_address == "192.168.1.20");
	CHECK(c.pcp_port == 15351);
	CHECK(c.announce_port == 15350);
	CHECK(c.ssdp_address == "192.168.1.1");
	CHECK(c.ssdp_port == 1901);
	CHECK(c.discover_timeout == 1500ms);
	CHECK(c.mapping_timeout == 1500ms);
	CHECK(c.log_level == LogLevel::Debug);
}

TEST_CASE("options: defaults") {
	auto r = parse({"map", "tcp", "80"});
	REQUIRE(r.ok());
	CHECK_FALSE(r->external_port.has_value());
	CHECK_FALSE(r->lifetime.has_value());
	Config c = make_config(*r);
	CHECK(c.protocols == kUseAll);
	CHECK(c.discover_timeout == kDefaultTimeout);
	CHECK(c.log_level == LogLevel::None);
	CHECK(c.gateway_address.empty());

	auto h = parse({"map", "tcp", "80", "0", "--hold", "-v"});
	REQUIRE(h.ok());
	CHECK(h->hold);
	CHECK(h->external_port == std::optional<uint16_t>(0)); // "any"
	CHECK(make_config(*h).log_level == LogLevel::Info);

	CHECK(parse({"probe"})->command == Command::Probe);
	CHECK(parse({"local-address"})->command == Command::LocalAddress);
	CHECK(parse({"unmap", "UDP", "53"})->protocol == IpProtocol::Udp);
	// After "--" everything is positional.
	CHECK_FALSE(parse({"--", "--help"}).ok());
	CHECK(parse({"--help"})->help);
	CHECK(parse({"-V"})->version);
}

TEST_CASE("options: every mistake is named") {
	CHECK(why({}) == "no command given");
	CHECK(why({"mapp"}) == "unknown command 'mapp'");
	CHECK(why({"map"}) == "map: expected tcp|udp and the internal port");
	CHECK(why({"map", "tcp"}) == "map: missing the internal port");
	CHECK(why({"map", "icmp", "1"}) == "map: expected tcp or udp, got 'icmp'");
	CHECK(why({"map", "tcp", "65536"}) == "map: bad internal port '65536' (1-65535)");
	CHECK(why({"map", "tcp", "+80"}) == "map: bad internal port '+80' (1-65535)");
	CHECK(why({"map", "tcp", " 80"}) == "map: bad internal port ' 80' (1-65535)");
	CHECK(why({"map", "tcp", "99999999999999999999"}) ==
	      "map: bad internal port '99999999999999999999' (1-65535)");
	CHECK(why({"unmap", "tcp", "80", "x"}) == "unmap: bad external port 'x' (0-65535)");
	CHECK(why({"map", "tcp", "80", "--lifetime", "4294967296"}) ==
	      "--lifetime: expected seconds (1-4294967295), got '4294967296'");
	CHECK(why({"map", "tcp", "80", "--lifetime", "4294967295"}) == "(accepted)");
	CHECK(why({"probe", "--hold"}) == "--hold applies to map only");
	CHECK(why({"unmap", "tcp", "1", "--lifetime", "5"}) == "--lifetime applies to map only");
	CHECK(why({"map", "tcp", "1", "--protocol", "pcp,,upnp"}) ==
	      "--protocol: expected pcp, natpmp or upnp, got ''");
	CHECK(why({"probe", "--gateway", "::1"}) == "--gateway: not an IPv4 address: '::1'");
	CHECK(why({"probe", "--local", "1.2.3"}) == "--local: not an IPv4 address: '1.2.3'");
	CHECK(why({"probe", "--ssdp", "host:1900"}) ==
	      "--ssdp: expected ADDR[:PORT] with an IPv4 address, got 'host:1900'");
	CHECK(why({"probe", "--timeout", "0"}) ==
	      "--timeout: expected milliseconds (1-3600000), got '0'");
	CHECK(why({"probe", "--timeout"}) == "--timeout needs a value");
	CHECK(why({"probe", "-x"}) == "unknown option '-x'");
	// The first mistake is the one reported.
	CHECK(why({"probe", "--bogus", "--timeout", "0"}) == "unknown option '--bogus'");
}

TEST_CASE("one-shot nonce: the same mapping always gets the same nonce, others another") {
	const auto a = asio::ip::make_address_v4("192.168.1.20");
	const auto b = asio::ip::make_address_v4("192.168.1.21");
	const auto n = oneshot_nonce(a, IpProtocol::Tcp, 8080);
	CHECK(n == oneshot_nonce(a, IpProtocol::Tcp, 8080));
	CHECK(n != std::array<uint8_t, 12>{});
	CHECK(n != oneshot_nonce(b, IpProtocol::Tcp, 8080));
	CHECK(n != oneshot_nonce(a, IpProtocol::Udp, 8080));
	CHECK(n != oneshot_nonce(a, IpProtocol::Tcp, 8081));
	CHECK(n != oneshot_nonce(a, IpProtocol::Tcp, 8080 + 256)); // both port bytes count
	// Pinned: plumc releases must keep deleting what earlier ones mapped.
	const std::array<uint8_t, 12> pinned =
	    oneshot_nonce(asio::ip::address_v4({10, 0, 0, 2}), IpProtocol::Udp, 51413);
	CHECK(pinned == oneshot_nonce(asio::ip::make_address_v4("10.0.0.2"), IpProtocol::Udp, 51413));
}

TEST_CASE("output: map, unmap and --hold lines, text and JSON") {
	MapReport m{IpProtocol::Tcp, 8080, "1.2.3.4", 8080, MappingProtocol::Pcp, 7200};
	CHECK(format_map(m, false) == "TCP 8080 -> 1.2.3.4:8080 via PCP (lifetime 7200 s)\n");
	CHECK(format_map(m, true) ==
	      "{\"protocol\":\"TCP\",\"internal_port\":8080,\"external_host\":\"1.2.3.4\","
	      "\"external_port\":8080,\"mapping_protocol\":\"PCP\",\"lifetime\":7200}\n");
	m.via = MappingProtocol::Upnp;
	m.lifetime = 0;
	CHECK(format_map(m, false) == "TCP 8080 -> 1.2.3.4:8080 via UPnP (permanent lease)\n");
	m.via = MappingProtocol::Direct;
	m.lifetime.reset();
	CHECK(format_map(m, true).find("\"lifetime\":null}") != std::string::npos);

	CHECK(format_unmap({IpProtocol::Udp, 53, 5353, MappingProtocol::Upnp}, false) ==
	      "UDP 53 unmapped via UPnP (external port 5353)\n");
	CHECK(format_unmap({IpProtocol::Udp, 53, 53, MappingProtocol::NatPmp}, false) ==
	      "UDP 53 unmapped via NAT-PMP\n");

	Mapping hm{IpProtocol::Udp, MappingProtocol::NatPmp, 7001, 7001, "5.6.7.8", {}};
	CHECK(format_state(State::Success, hm, false) ==
	      "SUCCESS UDP 7001 -> 5.6.7.8:7001 via NAT-PMP\n");
	CHECK(format_state(State::Failure, hm, false) ==
	      "FAILURE UDP 7001: the mapping is lost; retrying\n");
	CHECK(format_state(State::Destroyed, hm, false) == "DESTROYED UDP 7001\n");
	CHECK(format_state(State::Success, hm, true) ==
	      "{\"state\":\"SUCCESS\",\"protocol\":\"UDP\",\"internal_port\":7001,\"external_host\":"
	      "\"5.6.7.8\",\"external_port\":7001,\"mapping_protocol\":\"NAT-PMP\"}\n");
}

TEST_CASE("output: router text cannot break the JSON or the terminal") {
	CHECK(json_string("plain") == "\"plain\"");
	CHECK(json_string("a\"b\\c") == "\"a\\\"b\\\\c\"");
	CHECK(json_string("l1\nl2\t\x1b[31m") == "\"l1\\nl2\\t\\u001b[31m\"");
	CHECK(json_string("caf\xc3\xa9") == "\"caf\xc3\xa9\"");            // UTF-8 kept
	CHECK(json_string("bad\xff\xc3") == "\"bad\\ufffd\\ufffd\"");      // invalid replaced
	CHECK(json_string("\xe0\x80\xaf") == "\"\\ufffd\\ufffd\\ufffd\""); // overlong
	CHECK(json_string("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\""); // surrogate
	CHECK(printable("Router\x1b]0;pwned\x07 caf\xc3\xa9\xfe") == "Router?]0;pwned? caf\xc3\xa9?");
}

TEST_CASE("output: probe report") {
	ProbeReport r;
	r.gateway = "192.168.1.1";
	r.local_address = "192.168.1.20";
	engine::ProbeResult pcp;
	pcp.rtt = std::chrono::microseconds(1234);
	pcp.epoch = 77;
	r.entries.push_back({MappingProtocol::Pcp, pcp, std::nullopt, 1500us});
	r.entries.push_back(
	    {MappingProtocol::Upnp, std::nullopt, Error(Errc::timeout, "no SSDP answer"), 2000000us});
	r.chosen = MappingProtocol::Pcp;
	r.external_address = asio::ip::make_address("10.1.2.3");
	const std::string text = format_probe(r, false);
	CHECK(text == "gateway 192.168.1.1, local address 192.168.1.20\n"
	              "PCP      answered in 1.23 ms, epoch 77\n"
	              "UPnP     failed after 2000.00 ms: plum: timed out: no SSDP answer\n"
	              "chosen: PCP\n"
	              "external address 10.1.2.3 is private: double NAT, another router's NAT is in "
	              "the way\n");
	const std::string json = format_probe(r, true);
	CHECK(json ==
	      "{\"gateway\":\"192.168.1.1\",\"local_address\":\"192.168.1.20\",\"direct\":false,"
	      "\"protocols\":[{\"protocol\":\"PCP\",\"answered\":true,\"rtt_ms\":1.234,"
	      "\"external_address\":null,\"epoch\":77,\"elapsed_ms\":1.500},"
	      "{\"protocol\":\"UPnP\",\"answered\":false,\"error\":\"plum: timed out: no SSDP "
	      "answer\",\"elapsed_ms\":2000.000}],\"chosen\":\"PCP\",\"external_address\":"
	      "\"10.1.2.3\",\"double_nat\":true,\"cgnat\":false,\"verdict\":\"double_nat\"}\n");

	r.external_address.reset();
	r.chosen.reset();
	CHECK(format_probe(r, false).find("chosen: none\nexternal address unknown") !=
	      std::string::npos);
	CHECK(format_probe(r, true).find(
	          "\"chosen\":null,\"external_address\":null,\"double_nat\":null") !=
	      std::string::npos);
}

TEST_CASE("output: the probe verdict on the path to the internet") {
	ProbeReport r;
	CHECK(nat_verdict_name(r) == "unknown");
	r.external_address = asio::ip::make_address("0.0.0.0");
	CHECK(nat_verdict_name(r) == "unknown");
	r.external_address = asio::ip::make_address("1.2.3.4");
	CHECK(nat_verdict_name(r) == "public");
	r.external_address = asio::ip::make_address("192.168.0.9");
	CHECK(nat_verdict_name(r) == "double_nat");
	r.external_address = asio::ip::make_address("100.64.0.1");
	CHECK(nat_verdict_name(r) == "cgnat");
	r.external_address = asio::ip::make_address("100.127.255.255");
	CHECK(nat_verdict_name(r) == "cgnat");
	r.external_address = asio::ip::make_address("100.128.0.1");
	CHECK(nat_verdict_name(r) == "public");
	r.direct = true;
	CHECK(nat_verdict_name(r) == "direct");
}

TEST_CASE("output: probe --json carries the UPnP device as fields") {
	ProbeReport r;
	r.gateway = "192.168.1.1";
	r.local_address = "192.168.1.20";
	engine::ProbeResult upnp;
	upnp.external_address = asio::ip::make_address("100.64.7.7");
	engine::UpnpDevice d;
	d.friendly_name = "Box \"7\"\n";
	d.manufacturer = "ACME";
	d.model_name = "Router";
	d.model_number = "2";
	d.device_type = "urn:schemas-upnp-org:device:InternetGatewayDevice:2";
	d.igd_version = 2;
	d.service_type = "urn:schemas-upnp-org:service:WANIPConnection:2";
	d.control_url = "http://192.168.1.1:5000/ctl/IPConn";
	d.services = {"urn:schemas-upnp-org:service:Layer3Forwarding:1",
	              "urn:schemas-upnp-org:service:WANIPConnection:2"};
	upnp.upnp = d;
	r.entries.push_back({MappingProtocol::Upnp, upnp, std::nullopt, 3000us});
	r.chosen = MappingProtocol::Upnp;
	r.external_address = upnp.external_address;
	auto j = test::JsonParser::parse(format_probe(r, true));
	REQUIRE(j);
	const auto &dev = (*j)["protocols"][0]["upnp"];
	CHECK(dev["friendly_name"].str() == "Box \"7\"\n");
	CHECK(dev["manufacturer"].str() == "ACME");
	CHECK(dev["model_name"].str() == "Router");
	CHECK(dev["model_number"].str() == "2");
	CHECK(dev["igd_version"].integer() == 2);
	CHECK(dev["service_type"].str() == d.service_type);
	CHECK(dev["control_url"].str() == d.control_url);
	REQUIRE(dev["services"].array.size() == 2);
	CHECK(dev["services"][1].str() == d.service_type);
	CHECK((*j)["verdict"].str() == "cgnat");
	CHECK((*j)["cgnat"].flag());
}

namespace {

Stats sample_stats() {
	Stats s;
	s.active = MappingProtocol::Pcp;
	s.gateway = "192.168.1.1";
	s.local_address = "192.168.1.20";
	s.external_address = "1.2.3.4";
	s.pcp.requests = 7;
	s.pcp.retransmissions = 2;
	s.pcp.timeouts = 1;
	s.pcp.renewals = 3;
	s.pcp.recreations = 1;
	s.pcp.results = {{"SUCCESS", 5}, {"NO_RESOURCES", 1}, {"timeout", 1}};
	s.upnp.results = {{"UPnP 718", 2}};
	MappingStats m;
	m.id = 4;
	m.state = State::Success;
	m.protocol = IpProtocol::Udp;
	m.mapping_protocol = MappingProtocol::Pcp;
	m.internal_port = 5000;
	m.external_port = 5001;
	m.external_host = "1.2.3.4";
	m.age = 12345ms;
	m.renewals = 3;
	m.recreations = 1;
	m.failures = 1;
	m.last_error = "PCP: NO_RESOURCES: MAP";
	s.mappings.push_back(m);
	return s;
}

} // namespace

TEST_CASE("output: stats as JSON and as text") {
	const Stats s = sample_stats();
	auto j = test::JsonParser::parse(stats_json(s));
	REQUIRE(j);
	CHECK((*j)["active"].str() == "PCP");
	CHECK((*j)["gateway"].str() == "192.168.1.1");
	CHECK((*j)["external_address"].str() == "1.2.3.4");
	CHECK_FALSE((*j)["double_nat"].flag());
	const auto &pcp = (*j)["protocols"]["PCP"];
	CHECK(pcp["requests"].integer() == 7);
	CHECK(pcp["retransmissions"].integer() == 2);
	CHECK(pcp["timeouts"].integer() == 1);
	CHECK(pcp["renewals"].integer() == 3);
	CHECK(pcp["recreations"].integer() == 1);
	CHECK(pcp["results"]["SUCCESS"].integer() == 5);
	CHECK(pcp["results"]["NO_RESOURCES"].integer() == 1);
	CHECK((*j)["protocols"]["UPnP"]["results"]["UPnP 718"].integer() == 2);
	CHECK((*j)["protocols"]["NAT-PMP"]["requests"].integer() == 0);
	const auto &m = (*j)["mappings"][0];
	CHECK(m["id"].integer() == 4);
	CHECK(m["state"].str() == "SUCCESS");
	CHECK(m["protocol"].str() == "UDP");
	CHECK(m["external_port"].integer() == 5001);
	CHECK(m["age_ms"].integer() == 12345);
	CHECK(m["last_error"].str() == "PCP: NO_RESOURCES: MAP");

	Stats empty;
	auto e = test::JsonParser::parse(stats_json(empty));
	REQUIRE(e);
	CHECK((*e)["external_address"].is_null());
	CHECK((*e)["mappings"].array.empty());

	const std::string text = stats_text(s);
	CHECK(text.find("gateway 192.168.1.1, local address 192.168.1.20, using PCP, external "
	                "address 1.2.3.4\n") == 0);
	CHECK(text.find("PCP      requests 7, retransmissions 2, timeouts 1, renewals 3, "
	                "re-creations 1; NO_RESOURCES 1, SUCCESS 5, timeout 1\n") != std::string::npos);
	CHECK(text.find("mapping 4: SUCCESS UDP 5000 -> 1.2.3.4:5001 via PCP, age 12.3 s, renewals "
	                "3, re-creations 1, failures 1, last error: PCP: NO_RESOURCES: MAP\n") !=
	      std::string::npos);
}

TEST_CASE("status files: written atomically, listed while the pid lives, removed") {
	namespace fs = std::filesystem;
	const fs::path dir =
	    fs::temp_directory_path() / ("plumc-status-test-" + std::to_string(current_pid()));
	fs::remove_all(dir);
	{
		StatusFile f(dir.string(), current_pid());
		REQUIRE(f.write(stats_json(sample_stats()), stats_text(sample_stats())).ok());
		CHECK(fs::exists(f.path()));
		CHECK_FALSE(fs::exists(f.path() + ".tmp"));
		// A file whose process is gone, and files that are not status files.
		std::ofstream(dir / "999999999.status") << "{}\n";
		std::ofstream(dir / "notes.txt") << "x";
		std::ofstream(dir / "12x.status") << "{}\n";
		auto list = read_status(dir.string());
		REQUIRE(list.size() == 1);
		CHECK(list[0].pid == current_pid());
		auto j = test::JsonParser::parse(format_status(list, true));
		REQUIRE(j);
		CHECK((*j)["holders"][0]["pid"].integer() == current_pid());
		CHECK((*j)["holders"][0]["stats"]["protocols"]["PCP"]["requests"].integer() == 7);
		const std::string text = format_status(list, false);
		CHECK(text.find("plumc map --hold, pid " + std::to_string(current_pid()) + ":\n") == 0);
		CHECK(text.find("mapping 4: SUCCESS") != std::string::npos);
		// Rewritten: the new content replaces the old.
		Stats later = sample_stats();
		later.pcp.requests = 8;
		REQUIRE(f.write(stats_json(later), stats_text(later)).ok());
		list = read_status(dir.string());
		REQUIRE(list.size() == 1);
		CHECK((*test::JsonParser::parse(list[0].json))["protocols"]["PCP"]["requests"].integer() ==
		      8);
	}
	CHECK(read_status(dir.string()).empty()); // the destructor removed it
	CHECK(format_status({}, false) == "no plumc map --hold is running\n");
	CHECK(format_status({}, true) == "{\"holders\":[]}\n");
	fs::remove_all(dir);
}

namespace {

// The C runtime's environment, which getenv() reads. Windows has no
// setenv(): _putenv_s, where an empty value removes the variable.
void set_env(const char *name, const char *value) {
#if defined(_WIN32)
	_putenv_s(name, value);
#else
	::setenv(name, value, 1);
#endif
}
void unset_env(const char *name) {
#if defined(_WIN32)
	_putenv_s(name, "");
#else
	::unsetenv(name);
#endif
}

} // namespace

TEST_CASE("status dir: the variable, else by user") {
	const char *old = std::getenv("PLUMC_STATUS_DIR");
	const std::string saved = old ? old : "";
	set_env("PLUMC_STATUS_DIR", "/tmp/somewhere");
	CHECK(status_dir() == "/tmp/somewhere");
	unset_env("PLUMC_STATUS_DIR");
	// /run/plumc for root, else under $XDG_RUNTIME_DIR or /tmp (Linux);
	// under %LOCALAPPDATA% (Windows).
	CHECK(status_dir() == default_status_dir());
	CHECK(status_dir().find("plumc") != std::string::npos);
#if !defined(_WIN32)
	if (::geteuid() == 0)
		CHECK(status_dir() == "/run/plumc");
#endif
	if (old)
		set_env("PLUMC_STATUS_DIR", saved.c_str());
}

TEST_CASE("mini_json: the checker itself rejects what is not JSON") {
	CHECK(test::JsonParser::parse("{\"a\":[1,2.5,-3e2,true,null,\"\\u00e9\\ud83d\\ude00\"]}"));
	CHECK((*test::JsonParser::parse("\"\\u00e9\"")).str() == "\xc3\xa9");
	for (const char *bad : {"", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "01", "\"\x01\"", "tru",
	                        "{} {}", "\"\\x\"", "\"\\udc00\"", "[1 2]"})
		CHECK_MESSAGE(!test::JsonParser::parse(bad), bad);
}
