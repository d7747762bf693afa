#include "engine/prober.hpp"
#include "fake_client.hpp"

#include <doctest/doctest.h>

using namespace plum;
using namespace plum::engine;
using O = ProbeOutcome;
using K = ProbeDecision::Kind;

TEST_CASE("decide_probe prefers the first protocol that answers") {
	CHECK(decide_probe({O::Answered, O::Answered, O::Answered}, false).kind == K::Choose);
	CHECK(decide_probe({O::Answered, O::Pending, O::Pending}, false).index == 0);
	// PCP failed fast (ICMP unreachable): NAT-PMP is chosen without waiting.
	auto d = decide_probe({O::Failed, O::Answered, O::Pending}, false);
	CHECK(d.kind == K::Choose);
	CHECK(d.index == 1);
	// Only UPnP answered while PCP is still pending: wait a grace window.
	d = decide_probe({O::Pending, O::Failed, O::Answered}, false);
	CHECK(d.kind == K::Wait);
	CHECK(d.start_grace);
	d = decide_probe({O::Pending, O::Failed, O::Answered}, true);
	CHECK(d.kind == K::Choose);
	CHECK(d.index == 2);
	CHECK(decide_probe({O::Pending, O::Pending, O::Pending}, false).kind == K::Wait);
	CHECK_FALSE(decide_probe({O::Pending, O::Pending, O::Pending}, false).start_grace);
	CHECK(decide_probe({O::Failed, O::Failed, O::Failed}, false).kind == K::AllFailed);
	CHECK(decide_probe({}, false).kind == K::AllFailed);
}

namespace {

struct ProberRun {
	asio::io_context io;
	std::vector<std::unique_ptr<test::FakeClient>> clients;
	std::optional<Prober::Verdict> verdict;
	std::chrono::steady_clock::duration took{};

	void add(MappingProtocol kind, test::FakeClient::Script s) {
		clients.push_back(std::make_unique<test::FakeClient>(io, kind, std::move(s)));
	}
	void run(std::chrono::milliseconds grace, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
		std::vector<ProtocolClient *> list;
		for (auto &c : clients)
			list.push_back(c.get());
		const auto start = std::chrono::steady_clock::now();
		Prober p(io, list, grace, deadline, [&](Prober::Verdict v) {
			verdict = std::move(v);
			took = std::chrono::steady_clock::now() - start;
		});
		p.start();
		REQUIRE(test::run_until(io, [&] { return verdict.has_value(); }, std::chrono::seconds(5)));
	}
};

test::FakeClient::Script answers_after(int ms) {
	test::FakeClient::Script s;
	s.probe_delay = std::chrono::milliseconds(ms);
	return s;
}
test::FakeClient::Script fails_after(int ms, Errc e) {
	test::FakeClient::Script s = answers_after(ms);
	s.answers = false;
	s.probe_error = Error(e);
	return s;
}

} // namespace

TEST_CASE("Prober: UPnP alone is chosen as soon as PCP and NAT-PMP failed, not after a timeout") {
	ProberRun r;
	r.add(MappingProtocol::Pcp, fails_after(1, Errc::unreachable));
	r.add(MappingProtocol::NatPmp, fails_after(1, Errc::unreachable));
	r.add(MappingProtocol::Upnp, answers_after(20));
	r.run(std::chrono::milliseconds(2000));
	REQUIRE(r.verdict->chosen);
	CHECK(*r.verdict->chosen == 2);
	// No grace wait: the more preferred ones had already failed.
	CHECK(r.took < std::chrono::milliseconds(1000));
}

TEST_CASE("Prober: a late PCP answer within the grace window wins over UPnP") {
	ProberRun r;
	r.add(MappingProtocol::Pcp, answers_after(60));
	r.add(MappingProtocol::NatPmp, fails_after(1, Errc::unsupported));
	r.add(MappingProtocol::Upnp, answers_after(1));
	r.run(std::chrono::milliseconds(3000));
	REQUIRE(r.verdict->chosen);
	CHECK(*r.verdict->chosen == 0);
}

TEST_CASE("Prober: after the grace window the less preferred answer is taken") {
	ProberRun r;
	r.add(MappingProtocol::Pcp, answers_after(4000));
	r.add(MappingProtocol::Upnp, answers_after(1));
	r.run(std::chrono::milliseconds(30));
	REQUIRE(r.verdict->chosen);
	CHECK(*r.verdict->chosen == 1);
}

TEST_CASE("Prober: all failing reports the last error") {
	ProberRun r;
	r.add(MappingProtocol::Pcp, fails_after(1, Errc::unreachable));
	r.add(MappingProtocol::Upnp, fails_after(2, Errc::timeout));
	r.run(std::chrono::milliseconds(100));
	CHECK_FALSE(r.verdict->chosen);
	REQUIRE(r.verdict->last_error);
	CHECK(*r.verdict->last_error == Errc::timeout);
}

TEST_CASE("Prober: a protocol silent past the discover deadline counts as failed") {
	ProberRun r;
	r.add(MappingProtocol::Pcp, answers_after(60000));
	r.add(MappingProtocol::Upnp, fails_after(1, Errc::unreachable));
	r.run(std::chrono::milliseconds(10), std::chrono::milliseconds(100));
	CHECK_FALSE(r.verdict->chosen);
	CHECK(r.took < std::chrono::milliseconds(2000));
}

TEST_CASE("Prober: the grace window runs from the probe's start, not from the late answer") {
	// UPnP answers after 300 ms; PCP stays silent. With a 400 ms window
	// counted from the start, UPnP is taken at ~400 ms, not at 300 + 400.
	ProberRun r;
	r.add(MappingProtocol::Pcp, answers_after(4000));
	r.add(MappingProtocol::Upnp, answers_after(300));
	r.run(std::chrono::milliseconds(400));
	REQUIRE(r.verdict->chosen);
	CHECK(*r.verdict->chosen == 1);
	CHECK(r.took >= std::chrono::milliseconds(390));
	CHECK(r.took < std::chrono::milliseconds(650));
}

TEST_CASE("Prober: an answer after the grace window is taken at once") {
	ProberRun r;
	r.add(MappingProtocol::Pcp, answers_after(4000));
	r.add(MappingProtocol::Upnp, answers_after(600));
	r.run(std::chrono::milliseconds(400));
	REQUIRE(r.verdict->chosen);
	CHECK(*r.verdict->chosen == 1);
	CHECK(r.took < std::chrono::milliseconds(900));
}
