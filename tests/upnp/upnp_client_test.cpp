// UpnpClient against the fake IGD on 127.0.0.1: discovery, the mapping
// life cycle on IGDv1 and IGDv2, every refusal a router may answer, odd
// XML and HTTP framing, hostile LOCATIONs, bounded concurrency, cancel.
#include "fake_igd.hpp"
#include "fixture.hpp"
#include "upnp/upnp_client.hpp"
#include "upnp/upnp_errors.hpp"

#include <doctest/doctest.h>

#include <asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using plum::Errc;
using plum::Error;
using plum::Result;
using plum::engine::MapGrant;
using plum::engine::MapRequest;
using plum::engine::ProbeResult;
using plum::test::FakeIgd;
using plum::upnp::UpnpClient;
using plum::upnp::UpnpError;
using plum::upnp::UpnpSettings;
using Clock = std::chrono::steady_clock;

namespace {

const auto kLoopback = asio::ip::make_address_v4("127.0.0.1");

struct Harness {
	FakeIgd igd;
	asio::io_context io;
	std::unique_ptr<UpnpClient> client;
	UpnpSettings settings;

	Harness() {
		settings.gateway = kLoopback;
		settings.local_address = kLoopback;
		settings.ssdp_targets = {igd.ssdp_endpoint()};
		settings.discover_timeout = 3000ms;
		settings.mapping_timeout = 2000ms;
	}

	// The client's log, for a failing check to show (INFO(h.log_text())).
	std::vector<std::string> log;

	UpnpClient &make() {
		client = std::make_unique<UpnpClient>(
		    io, settings,
		    plum::Logger(plum::LogLevel::Verbose, [this](plum::LogLevel, std::string_view line) {
			    log.emplace_back(line);
		    }));
		return *client;
	}

	std::string log_text() const {
		std::string text;
		for (const auto &line : log)
			text += line + "\n";
		return text;
	}

	// Runs the loop until done fires or the limit passes. The handler must
	// not run inside the call that started the operation.
	template <class T>
	std::optional<Result<T>> run(const std::function<void(std::function<void(Result<T>)>)> &start,
	                             std::chrono::milliseconds limit = 8000ms) {
		std::optional<Result<T>> out;
		int calls = 0;
		start([&](Result<T> r) {
			++calls;
			out = std::move(r);
		});
		CHECK_MESSAGE(!out, "completion invoked inline");
		wait([&] { return out.has_value(); }, limit);
		// A second completion would show up now.
		io.restart();
		io.poll();
		CHECK(calls <= 1);
		return out;
	}

	void wait(const std::function<bool()> &until, std::chrono::milliseconds limit = 8000ms) {
		const auto deadline = Clock::now() + limit;
		while (!until() && Clock::now() < deadline) {
			io.restart();
			io.run_one_for(
			    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
			if (io.stopped() && !until())
				break; // nothing left to run: it will never complete
		}
	}

	Result<ProbeResult> probe(std::chrono::milliseconds limit = 8000ms) {
		if (!client)
			make();
		auto r = run<ProbeResult>([&](auto done) { client->probe(std::move(done)); }, limit);
		REQUIRE_MESSAGE(r, "probe never completed");
		return std::move(*r);
	}

	Result<MapGrant> map(const MapRequest &req) {
		auto r = run<MapGrant>([&](auto done) { client->map(req, std::move(done)); });
		REQUIRE_MESSAGE(r, "map never completed");
		return std::move(*r);
	}

	Result<void> unmap(const MapRequest &req) {
		auto r = run<void>([&](auto done) { client->unmap(req, std::move(done)); });
		REQUIRE_MESSAGE(r, "unmap never completed");
		return std::move(*r);
	}

	void probe_ok() {
		auto r = probe();
		REQUIRE_MESSAGE(r, r.error().message());
	}
};

MapRequest tcp(uint16_t internal, uint16_t external = 0, uint32_t lifetime = 3600) {
	MapRequest r;
	r.protocol = plum::IpProtocol::Tcp;
	r.internal_port = internal;
	r.external_port = external;
	r.lifetime = lifetime;
	r.description = "plum test";
	return r;
}

bool has_upnp_error(const Error &e, int code) {
	return e.code() == plum::upnp::make_error_code(UpnpError(code));
}

std::vector<std::string> lease_args(const FakeIgd &igd, const std::string &action) {
	std::vector<std::string> out;
	for (const auto &a : igd.actions())
		if (a.name == action)
			out.push_back(a.arg("NewLeaseDuration"));
	return out;
}

} // namespace

TEST_CASE("probe finds the IGD, its service and the external address") {
	for (int version : {1, 2}) {
		CAPTURE(version);
		Harness h;
		h.igd.set_igd_version(version);
		auto r = h.probe();
		REQUIRE_MESSAGE(r, r.error().message());
		CHECK(r->external_address == asio::ip::make_address("203.0.113.7"));
		CHECK(r->detail == "plum fake IGD urn:schemas-upnp-org:service:WANIPConnection:" +
		                       std::to_string(version));
		CHECK(r->rtt > 0us);
		REQUIRE(h.client->service());
		CHECK(h.client->service()->version == version);
		CHECK(h.client->description()->igd_version == version);
		CHECK(h.client->external_address() == asio::ip::make_address_v4("203.0.113.7"));
		CHECK(h.igd.description_requests() == 1);
		CHECK(h.igd.count("GetExternalIPAddress") == 1);
		// One WAN service: nothing to choose, no GetStatusInfo.
		CHECK(h.igd.count("GetStatusInfo") == 0);
	}
}

TEST_CASE("a mapping is created, renewed and deleted on IGDv1 and IGDv2") {
	for (int version : {1, 2}) {
		CAPTURE(version);
		Harness h;
		h.igd.set_igd_version(version);
		h.probe_ok();

		auto g = h.map(tcp(5000, 0, 3600));
		REQUIRE_MESSAGE(g, g.error().message());
		CHECK(g->external_port == 5000);
		CHECK(g->internal_port == 5000);
		CHECK(g->lifetime == 3600);
		CHECK(g->external_address == asio::ip::make_address("203.0.113.7"));
		auto m = h.igd.mapping(5000, "TCP");
		REQUIRE(m);
		CHECK(m->internal_client == "127.0.0.1");
		CHECK(m->internal_port == 5000);
		CHECK(m->lease == 3600);
		CHECK(m->description == "plum test");
		CHECK(m->remote_host.empty());
		CHECK(m->enabled);

		// The renewal: the engine sends back the port it holds.
		auto renewed = h.map(tcp(5000, g->external_port, 3600));
		REQUIRE_MESSAGE(renewed, renewed.error().message());
		CHECK(renewed->external_port == 5000);
		CHECK(h.igd.count("AddPortMapping") == 2);
		CHECK(h.igd.mappings().size() == 1);

		MapRequest del = tcp(5000, 5000);
		auto d = h.unmap(del);
		CHECK_MESSAGE(d, d.error().message());
		CHECK(h.igd.mappings().empty());
		CHECK(h.igd.count("DeletePortMapping") == 1);
		// IGDv1 never hears of IGDv2 actions.
		if (version == 1)
			CHECK(h.igd.count("AddAnyPortMapping") == 0);
	}
}

TEST_CASE("UDP mappings and the actions' arguments") {
	Harness h;
	h.probe_ok();
	MapRequest r = tcp(5353, 15353, 600);
	r.protocol = plum::IpProtocol::Udp;
	auto g = h.map(r);
	REQUIRE_MESSAGE(g, g.error().message());
	CHECK(g->external_port == 15353);
	CHECK(h.igd.mapping(15353, "UDP"));
	CHECK_FALSE(h.igd.mapping(15353, "TCP"));
	const auto actions = h.igd.actions();
	const auto add = std::find_if(actions.begin(), actions.end(),
	                              [](const auto &a) { return a.name == "AddPortMapping"; });
	REQUIRE(add != actions.end());
	// The argument order of the service table (some routers read by position).
	std::vector<std::string> names;
	for (const auto &[n, v] : add->args)
		names.push_back(n);
	CHECK(names == std::vector<std::string>{"NewRemoteHost", "NewExternalPort", "NewProtocol",
	                                        "NewInternalPort", "NewInternalClient", "NewEnabled",
	                                        "NewPortMappingDescription", "NewLeaseDuration"});
	CHECK(add->service_type == "urn:schemas-upnp-org:service:WANIPConnection:2");
	CHECK(add->path == "/ctl/IPConn");
	CHECK(add->arg("NewEnabled") == "1");
	CHECK(h.unmap(r));
	CHECK(h.igd.mappings().empty());
}

TEST_CASE("725 OnlyPermanentLeasesSupported: lease 0, remembered") {
	Harness h;
	h.igd.set_permanent_only(true);
	h.probe_ok();
	auto g = h.map(tcp(5001));
	REQUIRE_MESSAGE(g, g.error().message());
	CHECK(g->lifetime == 0);
	CHECK(h.client->permanent_leases_only());
	CHECK(lease_args(h.igd, "AddPortMapping") == std::vector<std::string>{"3600", "0"});
	REQUIRE(h.igd.mapping(5001, "TCP"));
	CHECK(h.igd.mapping(5001, "TCP")->lease == 0);

	// The next map asks for lease 0 at once: no second refusal.
	auto g2 = h.map(tcp(5002));
	REQUIRE_MESSAGE(g2, g2.error().message());
	CHECK(g2->lifetime == 0);
	CHECK(lease_args(h.igd, "AddPortMapping") == std::vector<std::string>{"3600", "0", "0"});
}

TEST_CASE("718 on IGDv2: AddAnyPortMapping's reserved port") {
	Harness h;
	h.igd.set_igd_version(2);
	h.probe_ok();
	REQUIRE(h.map(tcp(6000, 6000)));
	// Same client, another internal port, the same external port: taken.
	auto g = h.map(tcp(6001, 6000));
	REQUIRE_MESSAGE(g, g.error().message());
	CHECK(g->external_port != 6000);
	CHECK(h.igd.count("AddAnyPortMapping") == 1);
	auto m = h.igd.mapping(g->external_port, "TCP");
	REQUIRE(m);
	CHECK(m->internal_port == 6001);
	CHECK(h.igd.mapping(6000, "TCP")->internal_port == 6000);
}

TEST_CASE("718 on IGDv1: another external port, never AddAnyPortMapping") {
	Harness h;
	h.igd.set_igd_version(1);
	h.probe_ok();
	REQUIRE(h.map(tcp(6000, 6000)));
	auto g = h.map(tcp(6001, 6000));
	REQUIRE_MESSAGE(g, g.error().message());
	CHECK(g->external_port != 6000);
	CHECK(g->external_port >= 1024);
	auto m = h.igd.mapping(g->external_port, "TCP");
	REQUIRE(m);
	CHECK(m->internal_port == 6001);
	CHECK(h.igd.count("AddAnyPortMapping") == 0);

	SUBCASE("a conflict every time ends in a named 718, after a bounded number of tries") {
		h.igd.fail_next("AddPortMapping", 718, 100);
		const size_t before = h.igd.count("AddPortMapping");
		auto f = h.map(tcp(6002, 6002));
		REQUIRE_FALSE(f);
		CHECK(has_upnp_error(f.error(), 718));
		CHECK(f.error().message().find("ConflictInMappingEntry") != std::string::npos);
		CHECK(h.igd.count("AddPortMapping") - before == 1 + UpnpClient::kMaxConflictTries);
		CHECK(h.igd.count("AddAnyPortMapping") == 0);
	}
}

TEST_CASE("724 SamePortValuesRequired: external = internal") {
	Harness h;
	h.probe_ok();
	h.igd.fail_next("AddPortMapping", 724);
	auto g = h.map(tcp(7001, 7000));
	REQUIRE_MESSAGE(g, g.error().message());
	CHECK(g->external_port == 7001);
	CHECK(h.igd.mapping(7001, "TCP"));
	CHECK_FALSE(h.igd.mapping(7000, "TCP"));
}

TEST_CASE("716 and 727 wildcard refusals: once more with the internal port") {
	for (int code : {716, 727}) {
		CAPTURE(code);
		Harness h;
		h.probe_ok();
		h.igd.fail_next("AddPortMapping", code);
		auto g = h.map(tcp(7101, 7100));
		REQUIRE_MESSAGE(g, g.error().message());
		CHECK(g->external_port == 7101);
		CHECK(h.igd.count("AddPortMapping") == 2);
	}
}

TEST_CASE("714 on delete counts as deleted") {
	Harness h;
	h.probe_ok();
	auto d = h.unmap(tcp(7200, 7200));
	CHECK_MESSAGE(d, d.error().message());
	CHECK(h.igd.count("DeletePortMapping") == 1);
	// Any other refusal is an error with its name.
	h.igd.fail_next("DeletePortMapping", 606);
	auto f = h.unmap(tcp(7200, 7200));
	REQUIRE_FALSE(f);
	CHECK(has_upnp_error(f.error(), 606));
}

TEST_CASE("every UPnP error code ends in a clear, named error") {
	for (int code : {402, 501, 606, 713, 714, 715, 716, 718, 724, 725, 726, 727, 728, 729}) {
		CAPTURE(code);
		Harness h;
		h.probe_ok();
		h.igd.fail_next("AddPortMapping", code, 100);
		h.igd.fail_next("AddAnyPortMapping", code, 100);
		auto g = h.map(tcp(7300, 7301));
		REQUIRE_FALSE(g);
		CHECK(has_upnp_error(g.error(), code));
		const std::string msg = g.error().message();
		CHECK(msg.rfind("UPnP: ", 0) == 0);
		CHECK(msg.find(plum::upnp::upnp_error_name(code)) != std::string::npos);
		CHECK(h.igd.count("AddPortMapping") + h.igd.count("AddAnyPortMapping") <= 10);
		CHECK(h.igd.mappings().empty());
	}
	SUBCASE("in the probe too") {
		Harness h;
		h.igd.fail_next("GetExternalIPAddress", 501);
		auto r = h.probe();
		REQUIRE_FALSE(r);
		CHECK(has_upnp_error(r.error(), 501));
		CHECK(r.error().message().find("ActionFailed") != std::string::npos);
	}
}

TEST_CASE("WANPPPConnection only") {
	Harness h;
	h.igd.set_services(FakeIgd::Services::WanPppOnly);
	auto r = h.probe();
	REQUIRE_MESSAGE(r, r.error().message());
	REQUIRE(h.client->service());
	CHECK(h.client->service()->ppp);
	CHECK(r->detail.find("WANPPPConnection:1") != std::string::npos);
	auto g = h.map(tcp(7400));
	REQUIRE_MESSAGE(g, g.error().message());
	CHECK(h.igd.mapping(7400, "TCP"));
	for (const auto &a : h.igd.actions())
		CHECK(a.path == "/ctl/PPPConn");
}

TEST_CASE("two WAN services: the connected one is used") {
	SUBCASE("WANIPConnection disconnected, WANPPPConnection connected") {
		Harness h;
		h.igd.set_services(FakeIgd::Services::WanIpAndPpp);
		h.igd.set_wanip_connected(false);
		h.probe_ok();
		REQUIRE(h.client->service());
		CHECK(h.client->service()->ppp);
		CHECK(h.client->description()->services.size() == 2);
		CHECK(h.igd.count("GetStatusInfo") == 2);
		REQUIRE(h.map(tcp(7500)));
		const auto actions = h.igd.actions();
		CHECK(actions.back().path == "/ctl/PPPConn");
	}
	SUBCASE("WANIPConnection connected: asked first, chosen at once") {
		Harness h;
		h.igd.set_services(FakeIgd::Services::WanIpAndPpp);
		h.igd.set_wanip_connected(true);
		h.probe_ok();
		REQUIRE(h.client->service());
		CHECK_FALSE(h.client->service()->ppp);
		CHECK(h.igd.count("GetStatusInfo") == 1);
	}
}

TEST_CASE("chunked replies") {
	Harness h;
	h.igd.set_description_style({.chunked = true});
	h.igd.set_soap_style({.chunked = true});
	h.probe_ok();
	auto g = h.map(tcp(7600));
	REQUIRE_MESSAGE(g, g.error().message());
	CHECK(h.igd.mapping(7600, "TCP"));
	CHECK(h.unmap(tcp(7600, 7600)));
}

TEST_CASE("a SOAP call gets at least 5 s, whatever mapping_timeout says; slower is a timeout") {
	Harness h;
	h.settings.mapping_timeout = 300ms;
	h.probe_ok();
	// Some routers take 3-4 s per call: that is slow, not gone.
	h.igd.set_soap_style({.delay = 2000ms});
	auto ok = h.map(tcp(7700));
	REQUIRE_MESSAGE(ok, ok.error().message());
	h.igd.set_soap_style({.delay = 7000ms});
	const auto t0 = Clock::now();
	auto g = h.map(tcp(7701));
	const auto elapsed = Clock::now() - t0;
	REQUIRE_FALSE(g);
	CHECK(g.error() == Errc::timeout);
	CHECK(g.error().message().find("AddPortMapping") != std::string::npos);
	CHECK(elapsed >= 4900ms);
	CHECK(elapsed < 6500ms);
}

TEST_CASE("a probe whose SSDP was answered gives its SOAP calls 5 s past the discover timeout") {
	Harness h;
	h.settings.discover_timeout = 500ms;
	h.igd.set_soap_style({.delay = 1500ms});
	bool answered = false;
	plum::engine::ProtocolEvents ev;
	ev.gateway_answered = [&] { answered = true; };
	h.make().set_events(std::move(ev));
	h.probe_ok(); // GetExternalIPAddress answered at 1.5 s, past the 0.5 s
	CHECK(answered);
}

TEST_CASE("a truncated reply is an error, not a success") {
	SUBCASE("SOAP") {
		Harness h;
		h.probe_ok();
		h.igd.set_soap_style({.truncate = true});
		auto g = h.map(tcp(7800));
		REQUIRE_FALSE(g);
		CHECK(g.error() == Errc::truncated);
	}
	SUBCASE("description") {
		Harness h;
		h.igd.set_description_style({.truncate = true});
		auto r = h.probe();
		REQUIRE_FALSE(r);
		CHECK(r.error() == Errc::truncated);
		CHECK_FALSE(h.client->service());
	}
}

TEST_CASE("a body over 64 KiB is too_large") {
	SUBCASE("description") {
		Harness h;
		h.igd.set_description_style({.huge = true});
		auto r = h.probe();
		REQUIRE_FALSE(r);
		CHECK(r.error() == Errc::too_large);
	}
	SUBCASE("SOAP") {
		Harness h;
		h.probe_ok();
		h.igd.set_soap_style({.huge = true});
		auto g = h.map(tcp(7900));
		REQUIRE_FALSE(g);
		CHECK(g.error() == Errc::too_large);
	}
}

TEST_CASE("a LOCATION on another host is refused without connecting") {
	Harness h;
	h.settings.discover_timeout = 600ms;
	h.igd.set_location_host("127.0.0.2");
	auto r = h.probe();
	REQUIRE_FALSE(r);
	CHECK(r.error() == Errc::timeout);
	CHECK(r.error().message().find("no IGD answered SSDP") != std::string::npos);
	CHECK(h.igd.ssdp_searches() > 0);
	CHECK(h.igd.description_requests() == 0);
	CHECK(h.igd.http_connections() == 0);
	CHECK(h.igd.trap_connections() == 0);
}

TEST_CASE("SSDP: an answer from another source port is fine; silence is a named timeout") {
	SUBCASE("other port") {
		Harness h;
		h.igd.set_ssdp_from_other_port(true);
		h.probe_ok();
	}
	SUBCASE("silent") {
		Harness h;
		h.settings.discover_timeout = 400ms;
		h.igd.set_ssdp_silent(true);
		const auto t0 = Clock::now();
		auto r = h.probe();
		REQUIRE_FALSE(r);
		CHECK(r.error() == Errc::timeout);
		CHECK(r.error().context() == "no IGD answered SSDP");
		CHECK(Clock::now() - t0 < 2000ms);
	}
}

TEST_CASE("relative and absolute controlURLs, with and without URLBase") {
	for (auto mode : {FakeIgd::ControlUrl::AbsolutePath, FakeIgd::ControlUrl::Relative,
	                  FakeIgd::ControlUrl::Absolute}) {
		for (bool url_base : {false, true}) {
			CAPTURE(int(mode));
			CAPTURE(url_base);
			Harness h;
			h.igd.set_control_url(mode);
			h.igd.set_url_base(url_base);
			h.probe_ok();
			REQUIRE(h.client->service());
			CHECK(h.client->service()->control_url.path == "/ctl/IPConn");
			CHECK(h.client->service()->control_url.port == h.igd.http_port());
			REQUIRE(h.map(tcp(8000)));
			CHECK(h.igd.mapping(8000, "TCP"));
		}
	}
}

TEST_CASE("uppercase and prefixed XML") {
	for (auto style : {FakeIgd::XmlStyle::Uppercase, FakeIgd::XmlStyle::Prefixed}) {
		CAPTURE(int(style));
		Harness h;
		h.igd.set_xml_style(style);
		auto r = h.probe();
		REQUIRE_MESSAGE(r, r.error().message());
		CHECK(r->external_address == asio::ip::make_address("203.0.113.7"));
		REQUIRE(h.map(tcp(8100, 8100)));
		// AddAnyPortMapping's NewReservedPort, and a fault, in the same style.
		auto g = h.map(tcp(8101, 8100));
		REQUIRE_MESSAGE(g, g.error().message());
		CHECK(g->external_port != 8100);
		h.igd.fail_next("AddPortMapping", 606);
		auto f = h.map(tcp(8102));
		REQUIRE_FALSE(f);
		CHECK(has_upnp_error(f.error(), 606));
		CHECK(h.unmap(tcp(8100, 8100)));
	}
}

TEST_CASE("miniupnpd 2.3.1's own description, served verbatim") {
	Harness h;
	h.igd.set_igd_version(2);
	h.igd.set_description_xml(plum::test::read_fixture("miniupnpd-2.3.1/igd2-root-desc.xml"));
	auto r = h.probe();
	REQUIRE_MESSAGE(r, r.error().message());
	CHECK(r->detail == "plum lab router urn:schemas-upnp-org:service:WANIPConnection:2");
	REQUIRE(h.map(tcp(8200)));
	CHECK(h.igd.mapping(8200, "TCP"));
}

TEST_CASE("the external address is refreshed and changes are reported") {
	Harness h;
	std::vector<std::string> changes;
	h.make();
	plum::engine::ProtocolEvents ev;
	ev.external_address_changed = [&](const asio::ip::address &a) {
		changes.push_back(a.to_string());
	};
	h.client->set_events(ev);
	h.probe_ok();
	h.igd.set_external_ip(asio::ip::make_address_v4("198.51.100.9"));
	auto r = h.probe();
	REQUIRE_MESSAGE(r, r.error().message());
	h.wait([&] { return !changes.empty(); }, 1000ms);
	CHECK(changes == std::vector<std::string>{"198.51.100.9"});
	auto g = h.map(tcp(8300));
	REQUIRE(g);
	CHECK(g->external_address == asio::ip::make_address("198.51.100.9"));
}

TEST_CASE("a WAN link down (0.0.0.0) still probes; the address is learned at map time") {
	Harness h;
	h.igd.set_external_ip(asio::ip::make_address_v4("0.0.0.0"));
	auto r = h.probe();
	REQUIRE_MESSAGE(r, r.error().message());
	CHECK(r->external_address == asio::ip::make_address("0.0.0.0"));
	CHECK_FALSE(h.client->external_address());
	h.igd.set_external_ip(asio::ip::make_address_v4("198.51.100.20"));
	auto g = h.map(tcp(8350));
	REQUIRE_MESSAGE(g, g.error().message());
	CHECK(g->external_address == asio::ip::make_address("198.51.100.20"));
	CHECK(h.igd.count("GetExternalIPAddress") == 2);
	// Known now: the next grant does not ask again.
	REQUIRE(h.map(tcp(8351)));
	CHECK(h.igd.count("GetExternalIPAddress") == 2);
}

TEST_CASE("map without a local address is refused before anything is sent") {
	Harness h;
	// The SSDP socket binds to 0.0.0.0 then; it still sends to 127.0.0.1 only.
	h.settings.local_address = asio::ip::address_v4();
	h.probe_ok();
	auto g = h.map(tcp(8360));
	REQUIRE_FALSE(g);
	CHECK(g.error() == Errc::invalid_argument);
	CHECK(h.igd.count("AddPortMapping") == 0);
}

TEST_CASE("map and unmap before a probe fail at once, named") {
	Harness h;
	h.make();
	auto g = h.map(tcp(8400));
	REQUIRE_FALSE(g);
	CHECK(g.error() == Errc::unsupported);
	CHECK(h.igd.http_connections() == 0);
}

TEST_CASE("50 concurrent maps: never more than max_connections at the router") {
	Harness h;
	h.settings.max_connections = 4;
	h.probe_ok();
	constexpr int kMaps = 50;
	std::vector<std::optional<Result<MapGrant>>> results(kMaps);
	size_t most_in_flight = 0;
	for (int i = 0; i < kMaps; ++i)
		h.client->map(tcp(uint16_t(10000 + i)),
		              [&, i](Result<MapGrant> r) { results[i] = std::move(r); });
	CHECK(h.client->in_flight() <= 4);
	CHECK(h.client->queued() + h.client->in_flight() == kMaps);
	const auto all_done = [&] {
		most_in_flight = std::max(most_in_flight, h.client->in_flight());
		return std::all_of(results.begin(), results.end(),
		                   [](const auto &r) { return r.has_value(); });
	};
	h.wait(all_done, 20000ms);
	REQUIRE(all_done());
	for (int i = 0; i < kMaps; ++i) {
		CAPTURE(i);
		REQUIRE_MESSAGE(*results[i], results[i]->error().message());
		CHECK((*results[i])->external_port == 10000 + i);
	}
	CHECK(h.igd.mappings().size() == kMaps);
	CHECK(most_in_flight <= 4);
	CHECK(h.igd.max_open_connections() <= 4);
	CHECK(h.igd.max_open_connections() >= 2); // they did overlap
	CHECK(h.client->in_flight() == 0);
	CHECK(h.client->queued() == 0);
}

TEST_CASE("cancel() completes everything with cancelled; the client stays usable") {
	Harness h;
	h.settings.max_connections = 2;
	h.probe_ok();
	h.igd.set_soap_style({.delay = 400ms});
	constexpr int kMaps = 6;
	std::vector<std::optional<Result<MapGrant>>> maps(kMaps);
	std::vector<int> calls(kMaps, 0);
	for (int i = 0; i < kMaps; ++i)
		h.client->map(tcp(uint16_t(11000 + i)), [&, i](Result<MapGrant> r) {
			++calls[i];
			maps[i] = std::move(r);
		});
	std::optional<Result<void>> unmapped;
	h.client->unmap(tcp(11000, 11000), [&](Result<void> r) { unmapped = std::move(r); });
	std::optional<Result<ProbeResult>> probed;
	h.client->probe([&](Result<ProbeResult> r) { probed = std::move(r); });
	// Let the first requests reach the router.
	h.wait([&] { return h.igd.open_connections() >= 2; }, 2000ms);
	h.client->cancel();
	// Posted, not inline.
	CHECK_FALSE(maps[0]);
	CHECK_FALSE(unmapped);
	CHECK_FALSE(probed);
	const auto all_done = [&] {
		return unmapped && probed &&
		       std::all_of(maps.begin(), maps.end(), [](const auto &r) { return r.has_value(); });
	};
	h.wait(all_done, 2000ms);
	REQUIRE(all_done());
	for (int i = 0; i < kMaps; ++i) {
		REQUIRE_FALSE(*maps[i]);
		CHECK(maps[i]->error() == Errc::cancelled);
	}
	CHECK(unmapped->error() == Errc::cancelled);
	CHECK(probed->error() == Errc::cancelled);
	CHECK(h.client->queued() == 0);
	// Let late completions (cancelled HTTP requests) drain, then check that
	// no handler ran twice.
	h.wait([&] { return h.client->in_flight() == 0; }, 2000ms);
	h.io.restart();
	h.io.poll();
	CHECK(std::all_of(calls.begin(), calls.end(), [](int c) { return c == 1; }));

	h.igd.set_soap_style({});
	auto g = h.map(tcp(11100));
	CHECK_MESSAGE(g, g.error().message());
}

TEST_CASE("a destroyed client completes its operations with cancelled and is never touched") {
	Harness h;
	h.probe_ok();
	h.igd.set_soap_style({.delay = 300ms});
	std::optional<Result<MapGrant>> out;
	h.client->map(tcp(12000), [&](Result<MapGrant> r) { out = std::move(r); });
	std::optional<Result<ProbeResult>> probed;
	h.client->probe([&](Result<ProbeResult> r) { probed = std::move(r); });
	h.io.restart();
	h.io.run_for(20ms);
	h.client.reset();
	h.wait([&] { return out.has_value() && probed.has_value(); }, 2000ms);
	REQUIRE(out);
	CHECK(out->error() == Errc::cancelled);
	REQUIRE(probed);
	CHECK(probed->error() == Errc::cancelled);
	// Whatever was still in flight finishes without touching the client.
	h.io.restart();
	h.io.run_for(500ms);
}

namespace {

plum::upnp::SsdpMessage advertisement(std::string nts, std::optional<uint32_t> boot_id) {
	plum::upnp::SsdpMessage m;
	m.kind = plum::upnp::SsdpMessage::Kind::Notify;
	m.st = "urn:schemas-upnp-org:device:InternetGatewayDevice:2";
	m.nts = std::move(nts);
	m.boot_id = boot_id;
	// The fake IGD's root device (its UDN in the description).
	m.usn = "uuid:00000000-0000-0000-0000-00000000f001::" + m.st;
	return m;
}

} // namespace

TEST_CASE("SSDP advertisements: a reboot is reported once, a routine alive never") {
	Harness h;
	int restarts = 0;
	h.make();
	plum::engine::ProtocolEvents ev;
	ev.gateway_restarted = [&] { ++restarts; };
	h.client->set_events(ev);
	INFO("the client's log:\n" << h.log_text());
	h.probe_ok(); // learns the BOOTID from the search answer
	const uint32_t boot = h.igd.boot_id();

	// The periodic re-advertisement of the same boot: nothing happened.
	h.client->observe_advertisement(advertisement("ssdp:alive", boot));
	h.client->observe_advertisement(advertisement("ssdp:alive", std::nullopt));
	h.client->observe_advertisement(advertisement("ssdp:update", boot + 1));
	CHECK(restarts == 0);

	// Booted again: a new BOOTID, advertised once per device and service.
	h.igd.restart();
	for (int i = 0; i < 5; ++i) {
		auto alive = advertisement("ssdp:alive", h.igd.boot_id());
		alive.location = "http://127.0.0.1:" + std::to_string(h.igd.http_port()) + "/rootDesc.xml";
		h.client->observe_advertisement(alive);
	}
	CHECK(restarts == 1);
	// The probe that follows fetches the advertised description: no search.
	const size_t searchers = h.igd.ssdp_searchers();
	h.probe_ok();
	CHECK(h.igd.ssdp_searchers() == searchers);
	h.probe_ok(); // and only that once
	CHECK(h.igd.ssdp_searchers() > searchers);

	// A UDA 1.0 device: no BOOTID, but byebye on the way down, alive after.
	h.client->observe_advertisement(advertisement("ssdp:byebye", std::nullopt));
	h.client->observe_advertisement(advertisement("ssdp:byebye", std::nullopt));
	CHECK(restarts == 1);
	h.client->observe_advertisement(advertisement("ssdp:alive", std::nullopt));
	h.client->observe_advertisement(advertisement("ssdp:alive", std::nullopt));
	CHECK(restarts == 2);

	// A search answer is no advertisement.
	auto answer = advertisement("ssdp:alive", 1);
	answer.kind = plum::upnp::SsdpMessage::Kind::SearchResponse;
	h.client->observe_advertisement(answer);
	CHECK(restarts == 2);
}

TEST_CASE("withdraw_map: a queued map is dropped unsent, one on the wire is not") {
	Harness h;
	h.settings.max_connections = 2;
	h.probe_ok();
	constexpr int kMaps = 10;
	std::vector<MapRequest> requests;
	std::vector<std::optional<Result<MapGrant>>> results(kMaps);
	for (int i = 0; i < kMaps; ++i) {
		requests.push_back(tcp(uint16_t(11000 + i)));
		requests.back().nonce[0] = uint8_t(i + 1); // the engine's identity of a mapping
		h.client->map(requests.back(), [&, i](Result<MapGrant> r) { results[i] = std::move(r); });
	}
	REQUIRE(h.client->in_flight() == 2);
	CHECK_FALSE(h.client->withdraw_map(requests[0])); // on the wire
	CHECK(h.client->withdraw_map(requests[9]));       // queued
	CHECK_FALSE(h.client->withdraw_map(requests[9])); // only once
	MapRequest other = requests[8];
	other.nonce[0] = 99; // same port, another mapping: not ours to drop
	CHECK_FALSE(h.client->withdraw_map(other));

	const auto all_done = [&] {
		return std::all_of(results.begin(), results.end(),
		                   [](const auto &r) { return r.has_value(); });
	};
	h.wait(all_done, 20000ms);
	REQUIRE(all_done());
	REQUIRE_FALSE(*results[9]);
	CHECK(results[9]->error() == Errc::cancelled);
	for (int i = 0; i < 9; ++i)
		CHECK(results[i]->ok());
	CHECK(h.igd.mappings().size() == 9);
	CHECK_FALSE(h.igd.mapping(11009, "TCP"));
	const auto actions = h.igd.actions();
	CHECK(std::none_of(actions.begin(), actions.end(),
	                   [](const auto &a) { return a.arg("NewExternalPort") == "11009"; }));
}

TEST_CASE("a NOTIFY of another UPnP device on the router is not the IGD rebooting") {
	Harness h;
	int restarts = 0;
	h.make();
	plum::engine::ProtocolEvents ev;
	ev.gateway_restarted = [&] { ++restarts; };
	h.client->set_events(ev);
	h.probe_ok();
	auto other = advertisement("ssdp:alive", h.igd.boot_id() + 7);
	other.usn =
	    "uuid:4d696e69-444c-164e-9d41-b827eb0a1b2c::urn:schemas-upnp-org:device:MediaServer:1";
	other.st = "urn:schemas-upnp-org:device:MediaServer:1";
	h.client->observe_advertisement(other);
	h.client->observe_advertisement(advertisement("ssdp:byebye", std::nullopt));
	other.nts = "ssdp:byebye";
	h.client->observe_advertisement(other);
	auto no_usn = advertisement("ssdp:alive", h.igd.boot_id() + 9);
	no_usn.usn.clear();
	h.client->observe_advertisement(no_usn);
	CHECK(restarts == 0);
	// The IGD's own embedded device (another UDN of its description) counts.
	auto embedded = advertisement("ssdp:alive", h.igd.boot_id() + 1);
	embedded.usn =
	    "uuid:00000000-0000-0000-0000-00000000f003::urn:schemas-upnp-org:service:WANIPConnection:2";
	h.client->observe_advertisement(embedded);
	CHECK(restarts == 1);
}

TEST_CASE(
    "forged ssdp:alive (new BOOTID, useless LOCATION) while mappings are held: refuted over TCP") {
	Harness h;
	int restarts = 0;
	h.make();
	plum::engine::ProtocolEvents ev;
	ev.gateway_restarted = [&] { ++restarts; };
	h.client->set_events(ev);
	h.probe_ok();
	REQUIRE(h.map(tcp(7800, 7800)));
	// A flood of them: at most one confirming request a second.
	for (int i = 0; i < 50; ++i) {
		auto forged = advertisement("ssdp:alive", h.igd.boot_id() + 100 + i);
		forged.location = "http://127.0.0.1:1/";
		h.client->observe_advertisement(forged);
	}
	h.wait(
	    [&] {
		    return h.igd.count("GetSpecificPortMappingEntry") == 1 && h.client->in_flight() == 0;
	    },
	    3000ms);
	h.io.restart();
	h.io.run_for(100ms);
	CHECK(h.client->confirmations() == 1);
	CHECK(h.igd.count("GetSpecificPortMappingEntry") == 1);
	CHECK(restarts == 0);
	CHECK(h.igd.count("AddPortMapping") == 1);
	// The useless LOCATION was not kept: the next probe searches as usual.
	const size_t searchers = h.igd.ssdp_searchers();
	h.probe_ok();
	CHECK(h.igd.ssdp_searchers() > searchers);
}

TEST_CASE("a real reboot advertised with a LOCATION that fails: confirmed, and the probe falls "
          "back to a search") {
	Harness h;
	int restarts = 0;
	h.make();
	plum::engine::ProtocolEvents ev;
	ev.gateway_restarted = [&] { ++restarts; };
	h.client->set_events(ev);
	h.probe_ok();
	REQUIRE(h.map(tcp(7900, 7900)));
	h.igd.restart(); // the table is gone
	auto alive = advertisement("ssdp:alive", h.igd.boot_id());
	alive.location = "http://127.0.0.1:1/rootDesc.xml";
	h.client->observe_advertisement(alive);
	h.wait([&] { return restarts == 1; }, 3000ms);
	REQUIRE(restarts == 1);
	const size_t searchers = h.igd.ssdp_searchers();
	h.probe_ok(); // the advertised LOCATION refuses; the search finds the IGD
	CHECK(h.igd.ssdp_searchers() > searchers);
	REQUIRE(h.map(tcp(7900, 7900)));
	CHECK(h.igd.mapping(7900, "TCP"));
}
