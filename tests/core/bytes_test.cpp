#include "core/bytes.hpp"

#include <doctest/doctest.h>

using namespace plum;

TEST_CASE("ByteReader reads big-endian fields and fails past the end") {
	const std::array<std::byte, 7> buf{std::byte{0x01}, std::byte{0x02}, std::byte{0x03},
	                                   std::byte{0x04}, std::byte{0x05}, std::byte{0x06},
	                                   std::byte{0x07}};
	ByteReader r(buf);
	CHECK(r.u8() == 0x01);
	CHECK(r.u16be() == 0x0203);
	CHECK(r.u32be() == 0x04050607);
	CHECK(r.ok());
	CHECK(r.at_end());
	CHECK(r.u8() == 0);
	CHECK_FALSE(r.ok());
	CHECK(r.remaining() == 0);
}

TEST_CASE("ByteReader refuses a read that would overrun, and stays failed") {
	const std::array<std::byte, 3> buf{std::byte{1}, std::byte{2}, std::byte{3}};
	ByteReader r(buf);
	CHECK(r.u32be() == 0);
	CHECK_FALSE(r.ok());
	CHECK(r.u8() == 0); // a failed cursor never reads again
	ByteReader s(buf);
	CHECK(s.span(2).size() == 2);
	CHECK(s.span(2).empty());
	CHECK_FALSE(s.ok());
	ByteReader t(buf);
	CHECK_FALSE(t.skip(SIZE_MAX)); // no overflow in the bounds check
}

TEST_CASE("ByteWriter writes big-endian fields that ByteReader reads back") {
	ByteWriter w;
	w.u8(0xAB).u16be(0x1234).u32be(0xDEADBEEF).array(std::array<uint8_t, 2>{9, 8}).zeros(2);
	auto bytes = std::move(w).take();
	REQUIRE(bytes.size() == 11);
	CHECK(bytes[1] == std::byte{0x12});
	ByteReader r(bytes);
	CHECK(r.u8() == 0xAB);
	CHECK(r.u16be() == 0x1234);
	CHECK(r.u32be() == 0xDEADBEEF);
	CHECK(r.array<2>() == std::array<uint8_t, 2>{9, 8});
	CHECK(r.u16be() == 0);
	CHECK(r.ok());
	CHECK(r.at_end());
}
