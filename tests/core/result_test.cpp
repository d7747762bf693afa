#include "plum/result.hpp"

#include <doctest/doctest.h>

using namespace plum;

TEST_CASE("Result holds a value or a named error") {
	Result<int> good = 42;
	REQUIRE(good.ok());
	CHECK(*good == 42);

	Result<int> bad = Error(Errc::timeout, "PCP MAP to 192.168.1.1");
	REQUIRE_FALSE(bad.ok());
	CHECK(bad.error() == Errc::timeout);
	CHECK(bad.error().message() == "plum: timed out: PCP MAP to 192.168.1.1");

	Result<void> v;
	CHECK(v.ok());
	Result<void> e = Errc::not_initialized;
	CHECK_FALSE(e.ok());
	CHECK(e.error().message() == "plum: not initialized");
}
