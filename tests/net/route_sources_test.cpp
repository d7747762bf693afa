#include "net/route_sources.hpp"

#include <doctest/doctest.h>

using namespace plum;
using asio::ip::make_address_v4;

namespace {

// A source that answers `gateway` (or fails when empty) and counts questions.
net::RouteSource fake(std::string name, std::string gateway, int &asked) {
	net::RouteSource s;
	s.name = std::move(name);
	s.gateway = [gateway, &asked]() -> Result<asio::ip::address_v4> {
		++asked;
		if (gateway.empty())
			return Error(Errc::no_gateway, "unavailable");
		return make_address_v4(gateway);
	};
	return s;
}

auto ask_gateway = [](const net::RouteSource &s) { return s.gateway(); };

} // namespace

TEST_CASE("first_answer: the first source that answers, and no later one is asked") {
	int a = 0, b = 0;
	auto gw =
	    net::first_answer({fake("one", "192.168.1.1", a), fake("two", "10.0.0.1", b)}, ask_gateway);
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "192.168.1.1");
	CHECK(a == 1);
	CHECK(b == 0);
}

TEST_CASE("first_answer: an unavailable first source falls back to the next") {
	int a = 0, b = 0;
	auto gw = net::first_answer({fake("one", "", a), fake("two", "10.0.0.1", b)}, ask_gateway);
	REQUIRE(gw.ok());
	CHECK(gw->to_string() == "10.0.0.1");
	CHECK(a == 1);
	CHECK(b == 1);
}

TEST_CASE("first_answer: when none answers, every source's reason") {
	int a = 0, b = 0;
	auto gw = net::first_answer({fake("one", "", a), fake("two", "", b)}, ask_gateway);
	REQUIRE_FALSE(gw.ok());
	CHECK(gw.error() == Errc::no_gateway);
	CHECK(gw.error().context() == "one: unavailable; two: unavailable");
	auto none = net::first_answer({}, ask_gateway);
	CHECK(none.error() == Errc::no_gateway);
}
