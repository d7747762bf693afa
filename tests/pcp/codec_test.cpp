// Byte-exact vectors for the PCP (RFC 6887) and NAT-PMP (RFC 6886) codecs,
// written out by hand from the RFC layouts, plus what real servers send.
#include "pcp/natpmp_codec.hpp"
#include "pcp/pcp_codec.hpp"
#include "pcp/pcp_errors.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <string>
#include <string_view>

using namespace plum;
using namespace plum::pcp;

namespace {

// "02 01 00 00 ..." -> bytes; spaces and newlines are for the reader.
Bytes hex(std::string_view s) {
	Bytes out;
	int hi = -1;
	for (char c : s) {
		if (std::isspace(static_cast<unsigned char>(c)))
			continue;
		int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
		if (v < 0 || v >= 16)
			FAIL("not a hex digit: " << c);
		if (hi < 0) {
			hi = v;
		} else {
			out.push_back(std::byte(uint8_t(hi << 4 | v)));
			hi = -1;
		}
	}
	REQUIRE(hi < 0);
	return out;
}

asio::ip::address_v6 mapped(const char *v4) {
	return to_v4_mapped(asio::ip::make_address_v4(v4));
}

const std::array<uint8_t, 12> kNonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

// RFC 6887 §7.1 + §11.1: MAP TCP 8080 -> suggest 8080, 7200 s, from
// 192.168.1.10, any external IPv4 address (::ffff:0.0.0.0).
const char *const kMapRequest = "02 01 0000 00001c20"
                                "00000000 00000000 0000ffff c0a8010a"
                                "0102030405060708090a0b0c"
                                "06 000000 1f90 1f90"
                                "00000000 00000000 0000ffff 00000000";

// RFC 6887 §7.2 + §11.1: MAP success, 3600 s, epoch 1234, 8080 -> 8081 on
// 203.0.113.5.
const char *const kMapResponse = "02 81 00 00 00000e10 000004d2"
                                 "00000000 00000000 00000000"
                                 "0102030405060708090a0b0c"
                                 "06 000000 1f90 1f91"
                                 "00000000 00000000 0000ffff cb007105";

Request map_request() {
	Request req;
	req.opcode = Opcode::Map;
	req.lifetime = 7200;
	req.client_address = mapped("192.168.1.10");
	MapData m;
	m.nonce = kNonce;
	m.protocol = 6;
	m.internal_port = 8080;
	m.external_port = 8080;
	m.external_address = mapped("0.0.0.0");
	req.map = m;
	return req;
}

template <class T> Errc errc_of(const Result<T> &r) {
	REQUIRE_FALSE(r.ok());
	for (int e = 0; e <= int(Errc::failed); ++e)
		if (r.error() == Errc(e))
			return Errc(e);
	FAIL("not a plum::Errc: " << r.error().message());
	return Errc::ok;
}

} // namespace

TEST_CASE("PCP MAP request encodes byte for byte and decodes back") {
	const Bytes wire = hex(kMapRequest);
	REQUIRE(wire.size() == 60);
	CHECK(encode_request(map_request()) == wire);
	auto dec = decode_request(wire);
	REQUIRE(dec.ok());
	CHECK(*dec == map_request());
	CHECK(dec->map->external_address.is_v4_mapped());
	CHECK(dec->client_address.to_string() == "::ffff:192.168.1.10");
}

TEST_CASE("PCP MAP success response decodes and re-encodes byte for byte") {
	const Bytes wire = hex(kMapResponse);
	auto dec = decode_response(wire);
	REQUIRE(dec.ok());
	CHECK(dec->version == 2);
	CHECK(dec->opcode == Opcode::Map);
	CHECK(dec->result == PcpResult::Success);
	CHECK(dec->lifetime == 3600);
	CHECK(dec->epoch == 1234);
	REQUIRE(dec->map);
	CHECK(dec->map->nonce == kNonce);
	CHECK(dec->map->protocol == 6);
	CHECK(dec->map->internal_port == 8080);
	CHECK(dec->map->external_port == 8081);
	CHECK(dec->map->external_address == mapped("203.0.113.5"));
	CHECK_FALSE(dec->peer);
	CHECK(dec->options.empty());
	CHECK(encode_response(*dec) == wire);
}

TEST_CASE("PCP PEER request and response (RFC 6887 §12.1)") {
	const Bytes wire = hex("02 02 0000 00000258"
	                       "00000000 00000000 0000ffff 0a000002"
	                       "0102030405060708090a0b0c"
	                       "11 000000 0d05 0000"
	                       "00000000 00000000 00000000 00000000"
	                       "1f40 0000"
	                       "20010db8 00000000 00000000 00000001");
	REQUIRE(wire.size() == 80);
	Request req;
	req.opcode = Opcode::Peer;
	req.lifetime = 600;
	req.client_address = mapped("10.0.0.2");
	PeerData p;
	p.map.nonce = kNonce;
	p.map.protocol = 17;
	p.map.internal_port = 3333;
	p.remote_port = 8000;
	p.remote_address = asio::ip::make_address_v6("2001:db8::1");
	req.peer = p;
	CHECK(encode_request(req) == wire);
	auto dec = decode_request(wire);
	REQUIRE(dec.ok());
	CHECK(*dec == req);

	Response res;
	res.opcode = Opcode::Peer;
	res.lifetime = 600;
	res.epoch = 9;
	res.peer = p;
	res.peer->map.external_port = 40000;
	Bytes out = encode_response(res);
	REQUIRE(out.size() == 80);
	CHECK(out[1] == std::byte{0x82});
	auto back = decode_response(out);
	REQUIRE(back.ok());
	CHECK(*back == res);
}

TEST_CASE("PCP ANNOUNCE: request and miniupnpd's epoch-0 response") {
	const Bytes req_wire = hex("02 00 0000 00000000"
	                           "00000000 00000000 0000ffff 7f000001");
	Request req;
	req.opcode = Opcode::Announce;
	req.client_address = mapped("127.0.0.1");
	CHECK(encode_request(req) == req_wire);
	auto dreq = decode_request(req_wire);
	REQUIRE(dreq.ok());
	CHECK(*dreq == req);

	const Bytes res_wire = hex("02 80 00 00 00000000 00000000"
	                           "00000000 00000000 00000000");
	auto dec = decode_response(res_wire);
	REQUIRE(dec.ok());
	CHECK(dec->opcode == Opcode::Announce);
	CHECK(dec->result == PcpResult::Success);
	CHECK(dec->epoch == 0);
	CHECK_FALSE(dec->map);
	Response r;
	r.opcode = Opcode::Announce;
	CHECK(encode_response(r) == res_wire);
}

TEST_CASE("PCP error responses: with opcode data, without it, with garbage options") {
	SUBCASE("NO_RESOURCES with the MAP data echoed (miniupnpd)") {
		Bytes wire = hex(kMapResponse);
		wire[3] = std::byte{8};
		auto dec = decode_response(wire);
		REQUIRE(dec.ok());
		CHECK(dec->result == PcpResult::NoResources);
		CHECK(dec->map);
		CHECK(is_transient(dec->result));
	}
	SUBCASE("NOT_AUTHORIZED as a bare header") {
		const Bytes wire = hex("02 81 00 02 00000000 0000002a"
		                       "00000000 00000000 00000000");
		auto dec = decode_response(wire);
		REQUIRE(dec.ok());
		CHECK(dec->result == PcpResult::NotAuthorized);
		CHECK(dec->epoch == 42);
		CHECK_FALSE(dec->map);
		CHECK(encode_response(*dec) == wire);
	}
	SUBCASE("a success must carry its opcode data") {
		const Bytes wire = hex("02 81 00 00 00000000 0000002a"
		                       "00000000 00000000 00000000");
		CHECK(errc_of(decode_response(wire)) == Errc::truncated);
	}
	SUBCASE("garbage after the data of an error response is ignored (§7.2)") {
		Bytes wire = hex(kMapResponse);
		wire[3] = std::byte{3}; // MALFORMED_REQUEST
		Bytes tail = hex("80 00 ffff");
		wire.insert(wire.end(), tail.begin(), tail.end());
		auto dec = decode_response(wire);
		REQUIRE(dec.ok());
		CHECK(dec->result == PcpResult::MalformedRequest);
		CHECK(dec->options.empty());
		wire[3] = std::byte{0};
		CHECK(errc_of(decode_response(wire)) == Errc::malformed);
	}
	SUBCASE("UNSUPP_VERSION from a server of another PCP version") {
		const Bytes wire = hex("01 81 00 01 00000000 00000007"
		                       "00000000 00000000 00000000");
		auto dec = decode_response(wire);
		REQUIRE(dec.ok());
		CHECK(dec->version == 1);
		CHECK(dec->result == PcpResult::UnsuppVersion);
		CHECK(encode_response(*dec) == wire);
	}
	SUBCASE("UNSUPP_OPCODE for an opcode we do not know") {
		const Bytes wire = hex("02 c5 00 04 00000000 00000007"
		                       "00000000 00000000 00000000");
		auto dec = decode_response(wire);
		REQUIRE(dec.ok());
		CHECK(dec->result == PcpResult::UnsuppOpcode);
		CHECK(uint8_t(dec->opcode) == 0x45);
	}
}

TEST_CASE("PCP options: known, unknown, padded, overrunning") {
	Request req = map_request();
	req.options.push_back(make_prefer_failure_option());
	req.options.push_back(make_third_party_option(mapped("192.168.1.20")));
	req.options.push_back(make_filter_option(128, 443, asio::ip::make_address_v6("2001:db8::7")));
	req.options.push_back(Option{0x80, hex("6162636465")}); // unknown, optional range
	const Bytes opts = hex("02 00 0000"
	                       "01 00 0010 00000000 00000000 0000ffff c0a80114"
	                       "03 00 0014 00 80 01bb 20010db8 00000000 00000000 00000007"
	                       "80 00 0005 6162636465 000000");
	Bytes wire = hex(kMapRequest);
	wire.insert(wire.end(), opts.begin(), opts.end());
	CHECK(encode_request(req) == wire);
	auto dec = decode_request(wire);
	REQUIRE(dec.ok());
	CHECK(*dec == req);
	REQUIRE(dec->options.size() == 4);
	CHECK(dec->options[3].data.size() == 5); // the padding is not data
	REQUIRE(find_option(dec->options, kOptionThirdParty));
	CHECK(find_option(dec->options, kOptionThirdParty)->data.size() == 16);
	CHECK(find_option(dec->options, 0x7f) == nullptr);

	SUBCASE("an option whose length runs past the end") {
		Bytes bad = hex(kMapRequest);
		Bytes o = hex("80 00 0008 01020304");
		bad.insert(bad.end(), o.begin(), o.end());
		CHECK(errc_of(decode_request(bad)) == Errc::malformed);
	}
	SUBCASE("an option whose padding runs past the end") {
		Bytes bad = hex(kMapRequest);
		Bytes o = hex("80 00 0005 01020304"); // 5 bytes need 8 with padding
		bad.insert(bad.end(), o.begin(), o.end());
		CHECK(errc_of(decode_request(bad)) == Errc::malformed);
	}
	SUBCASE("a known option with the wrong length") {
		Bytes bad = hex(kMapRequest);
		Bytes o = hex("02 00 0004 00000000"); // PREFER_FAILURE carries nothing
		bad.insert(bad.end(), o.begin(), o.end());
		auto r = decode_request(bad);
		CHECK(errc_of(r) == Errc::malformed);
		CHECK(r.error().context().find("option 2") != std::string::npos);
	}
	SUBCASE("a zero-length unknown option") {
		Bytes ok = hex(kMapRequest);
		Bytes o = hex("c0 00 0000");
		ok.insert(ok.end(), o.begin(), o.end());
		auto r = decode_request(ok);
		REQUIRE(r.ok());
		REQUIRE(r->options.size() == 1);
		CHECK(r->options[0].code == 0xc0);
		CHECK(r->options[0].data.empty());
	}
}

TEST_CASE("PCP decoding refuses bad input with the right Errc") {
	const Bytes req = hex(kMapRequest);
	const Bytes res = hex(kMapResponse);
	CHECK(errc_of(decode_request({})) == Errc::truncated);
	CHECK(errc_of(decode_request(ByteSpan(req).first(20))) == Errc::truncated);
	CHECK(errc_of(decode_request(ByteSpan(req).first(56))) == Errc::truncated);
	CHECK(errc_of(decode_request(ByteSpan(req).first(26))) == Errc::malformed);
	CHECK(errc_of(decode_response(ByteSpan(res).first(20))) == Errc::truncated);
	CHECK(errc_of(decode_response(ByteSpan(res).first(56))) == Errc::truncated);

	Bytes big = req;
	big.resize(1104);
	auto too_big = decode_request(big);
	CHECK(errc_of(too_big) == Errc::too_large);
	CHECK(too_big.error().context().find("1104") != std::string::npos);
	big = res;
	big.resize(1104);
	CHECK(errc_of(decode_response(big)) == Errc::too_large);
	// 1100 bytes exactly is allowed: the rest is one unknown option.
	Bytes max = req;
	Bytes o = hex("80 00");
	max.insert(max.end(), o.begin(), o.end());
	size_t len = 1100 - max.size() - 2;
	max.push_back(std::byte(len >> 8));
	max.push_back(std::byte(len & 0xff));
	max.resize(1100);
	CHECK(decode_request(max).ok());

	// The R bit decides which direction a message goes.
	CHECK(errc_of(decode_request(res)) == Errc::malformed);
	CHECK(errc_of(decode_response(req)) == Errc::malformed);

	Bytes v1 = req;
	v1[0] = std::byte{1};
	CHECK(errc_of(decode_request(v1)) == Errc::unsupported);
	Bytes v3 = res;
	v3[0] = std::byte{3};
	CHECK(errc_of(decode_response(v3)) == Errc::unsupported); // result SUCCESS
	Bytes op9 = req;
	op9[1] = std::byte{9};
	CHECK(errc_of(decode_request(op9)) == Errc::unsupported);
	Bytes garbage(64, std::byte{0xff});
	CHECK_FALSE(decode_request(garbage).ok());
	CHECK_FALSE(decode_response(garbage).ok());
}

TEST_CASE("A NAT-PMP server's answer to PCP is classified, not parsed as PCP") {
	// RFC 6887 §9 / RFC 6886 §3.5: version 0, result UNSUPP_VERSION.
	const Bytes natpmp_reply = hex("00 81 0001 00000e10");
	CHECK(classify(natpmp_reply) == WireKind::NatPmp);
	CHECK(errc_of(decode_response(natpmp_reply)) == Errc::unsupported);
	auto n = decode_natpmp_response(natpmp_reply);
	REQUIRE(n.ok());
	CHECK(n->result == NatPmpResult::UnsuppVersion);
	CHECK(n->epoch == 3600);
	// The errata form (op 128) too.
	CHECK(classify(hex("00 80 0001 00000000")) == WireKind::NatPmp);

	CHECK(classify(hex(kMapResponse)) == WireKind::Pcp);
	CHECK(classify(hex(kMapRequest)) == WireKind::Pcp);
	CHECK(classify(hex("01 81")) == WireKind::Pcp);
	CHECK(classify(hex("47 45 54 20")) == WireKind::Unknown); // "GET "
	CHECK(classify(hex("00")) == WireKind::Unknown);
	CHECK(classify({}) == WireKind::Unknown);
}

TEST_CASE("to_v4_mapped writes ::ffff:a.b.c.d") {
	auto a = to_v4_mapped(asio::ip::make_address_v4("198.51.100.7"));
	CHECK(a.is_v4_mapped());
	CHECK(a.to_string() == "::ffff:198.51.100.7");
	auto b = a.to_bytes();
	CHECK(b[10] == 0xff);
	CHECK(b[11] == 0xff);
	CHECK(b[12] == 198);
	CHECK(b[15] == 7);
}

TEST_CASE("every PCP result code has its RFC name") {
	const char *names[] = {"SUCCESS",           "UNSUPP_VERSION",        "NOT_AUTHORIZED",
	                       "MALFORMED_REQUEST", "UNSUPP_OPCODE",         "UNSUPP_OPTION",
	                       "MALFORMED_OPTION",  "NETWORK_FAILURE",       "NO_RESOURCES",
	                       "UNSUPP_PROTOCOL",   "USER_EX_QUOTA",         "CANNOT_PROVIDE_EXTERNAL",
	                       "ADDRESS_MISMATCH",  "EXCESSIVE_REMOTE_PEERS"};
	for (int i = 0; i <= 13; ++i) {
		std::error_code ec = PcpResult(i);
		CHECK(ec.category() == pcp_category());
		CHECK(ec.message() == names[i]);
		CHECK(to_string(PcpResult(i)) == names[i]);
	}
	CHECK(std::string(pcp_category().name()) == "PCP");
	CHECK(std::error_code(PcpResult(42)).message() == "result 42");
	CHECK(to_string(PcpResult(42)).empty());
	CHECK(Error(PcpResult::NoResources).message() == "PCP: NO_RESOURCES");
	CHECK(Error(make_error_code(PcpResult::NoResources)) ==
	      std::error_code(PcpResult::NoResources));
	CHECK_FALSE(std::error_code(PcpResult::NoResources) == std::error_code(NatPmpResult(8)));
}

TEST_CASE("every NAT-PMP result code has its RFC name") {
	const char *names[] = {"SUCCESS",         "UNSUPP_VERSION",   "NOT_AUTHORIZED",
	                       "NETWORK_FAILURE", "OUT_OF_RESOURCES", "UNSUPP_OPCODE"};
	for (int i = 0; i <= 5; ++i) {
		std::error_code ec = NatPmpResult(i);
		CHECK(ec.category() == natpmp_category());
		CHECK(ec.message() == names[i]);
	}
	CHECK(std::string(natpmp_category().name()) == "NAT-PMP");
	CHECK(std::error_code(NatPmpResult(300)).message() == "result 300");
	CHECK(Error(NatPmpResult::OutOfResources).message() == "NAT-PMP: OUT_OF_RESOURCES");
}

TEST_CASE("transient results: short lifetime errors only") {
	CHECK(is_transient(PcpResult::NetworkFailure));
	CHECK(is_transient(PcpResult::NoResources));
	CHECK(is_transient(PcpResult::UserExQuota));
	CHECK(is_transient(PcpResult::CannotProvideExternal));
	CHECK_FALSE(is_transient(PcpResult::Success));
	CHECK_FALSE(is_transient(PcpResult::NotAuthorized));
	CHECK_FALSE(is_transient(PcpResult::UnsuppProtocol));
	CHECK_FALSE(is_transient(PcpResult::MalformedRequest));
	CHECK_FALSE(is_transient(PcpResult::AddressMismatch));
	CHECK_FALSE(is_transient(PcpResult::ExcessiveRemotePeers));
	CHECK_FALSE(is_transient(PcpResult(99)));
	CHECK(is_transient(NatPmpResult::NetworkFailure));
	CHECK(is_transient(NatPmpResult::OutOfResources));
	CHECK_FALSE(is_transient(NatPmpResult::NotAuthorized));
	CHECK_FALSE(is_transient(NatPmpResult::UnsuppOpcode));
	CHECK_FALSE(is_transient(NatPmpResult::Success));
}

TEST_CASE("NAT-PMP requests (RFC 6886 §3.2, §3.3)") {
	CHECK(encode_natpmp_request({}) == hex("00 00"));
	NatPmpRequest map{NatPmpOp::MapTcp, 8080, 8081, 7200};
	const Bytes wire = hex("00 02 0000 1f90 1f91 00001c20");
	CHECK(encode_natpmp_request(map) == wire);
	auto dec = decode_natpmp_request(wire);
	REQUIRE(dec.ok());
	CHECK(*dec == map);
	// §3.4: delete all UDP mappings of the client: ports 0, lifetime 0.
	CHECK(encode_natpmp_request({NatPmpOp::MapUdp, 0, 0, 0}) ==
	      hex("00 01 0000 0000 0000 00000000"));
	auto addr = decode_natpmp_request(hex("00 00"));
	REQUIRE(addr.ok());
	CHECK(addr->op == NatPmpOp::ExternalAddress);

	CHECK(errc_of(decode_natpmp_request(hex("00"))) == Errc::truncated);
	CHECK(errc_of(decode_natpmp_request(hex("00 01 0000 1f90"))) == Errc::truncated);
	CHECK(errc_of(decode_natpmp_request(hex("02 01 0000 1f90 1f91 00001c20"))) ==
	      Errc::unsupported);
	CHECK(errc_of(decode_natpmp_request(hex("00 03"))) == Errc::unsupported);
	CHECK(errc_of(decode_natpmp_request(hex("00 80 0000 00000000 01020304"))) == Errc::malformed);
	CHECK(errc_of(decode_natpmp_request(Bytes(1101))) == Errc::too_large);
}

TEST_CASE("NAT-PMP responses: public address, mapping, short error") {
	SUBCASE("public address reply") {
		const Bytes wire = hex("00 80 0000 0001e240 cb007105");
		auto dec = decode_natpmp_response(wire);
		REQUIRE(dec.ok());
		CHECK(dec->op == NatPmpOp::ExternalAddress);
		CHECK(dec->result == NatPmpResult::Success);
		CHECK(dec->epoch == 123456);
		CHECK(dec->external_address == asio::ip::make_address_v4("203.0.113.5"));
		CHECK(encode_natpmp_response(*dec) == wire);
	}
	SUBCASE("UDP mapping reply") {
		const Bytes wire = hex("00 81 0000 0000000a 1f90 1f91 00000e10");
		auto dec = decode_natpmp_response(wire);
		REQUIRE(dec.ok());
		CHECK(dec->op == NatPmpOp::MapUdp);
		CHECK(dec->internal_port == 8080);
		CHECK(dec->external_port == 8081);
		CHECK(dec->lifetime == 3600);
		CHECK(dec->epoch == 10);
		CHECK(encode_natpmp_response(*dec) == wire);
	}
	SUBCASE("short error replies, for every op (miniupnpd)") {
		for (uint8_t op : {0x80, 0x81, 0x82}) {
			Bytes wire = hex("00 00 0004 00000063");
			wire[1] = std::byte{op};
			auto dec = decode_natpmp_response(wire);
			REQUIRE(dec.ok());
			CHECK(uint8_t(dec->op) == op - 128);
			CHECK(dec->result == NatPmpResult::OutOfResources);
			CHECK(dec->epoch == 99);
			CHECK(dec->lifetime == 0);
			CHECK(encode_natpmp_short_response(*dec) == wire);
		}
		CHECK(errc_of(decode_natpmp_response(hex("00 82 0000 00000063"))) == Errc::truncated);
	}
	SUBCASE("the full form of an error reply") {
		const Bytes wire = hex("00 82 0002 00000001 1f90 0000 00000000");
		auto dec = decode_natpmp_response(wire);
		REQUIRE(dec.ok());
		CHECK(dec->result == NatPmpResult::NotAuthorized);
		CHECK(dec->internal_port == 8080);
	}
	SUBCASE("refusals") {
		CHECK(errc_of(decode_natpmp_response(hex("00"))) == Errc::truncated);
		CHECK(errc_of(decode_natpmp_response(hex("00 80 0000"))) == Errc::truncated);
		CHECK(errc_of(decode_natpmp_response(hex("00 80 0000 00000001 cb00"))) == Errc::truncated);
		CHECK(errc_of(decode_natpmp_response(hex("00 01 0000 1f90 1f91 00001c20"))) ==
		      Errc::malformed);
		CHECK(errc_of(decode_natpmp_response(hex("00 83 0000 00000001"))) == Errc::malformed);
		CHECK(errc_of(decode_natpmp_response(hex(kMapResponse))) == Errc::unsupported);
		Bytes big = hex("00 80 0000 0001e240 cb007105");
		big.resize(1101);
		CHECK(errc_of(decode_natpmp_response(big)) == Errc::too_large);
	}
}

TEST_CASE("replies captured from miniupnpd 2.3.1 (the lab) decode as expected") {
	// fuzz/corpus/pcp/miniupnpd-pcp-*.bin, written out.
	auto success = decode_response(hex("02 81 00 00 00000e10 00000007"
	                                   "00000000 00000000 00000000"
	                                   "706c756d 00000000 00000001"
	                                   "06 000000 238c 238c"
	                                   "00000000 00000000 0000ffff 01020304"));
	REQUIRE(success.ok());
	CHECK(success->map->external_port == 9100);
	CHECK(success->map->external_address == mapped("1.2.3.4"));
	CHECK(success->lifetime == 3600);

	// Deleting a mapping that does not exist: NO_RESOURCES with a lifetime.
	auto nothing = decode_response(hex("02 81 00 08 0000001e 00000007"
	                                   "00000000 00000000 00000000"
	                                   "706c756d 00000000 00000003"
	                                   "06 000000 23f0 0000"
	                                   "00000000 00000000 0000ffff 01020304"));
	REQUIRE(nothing.ok());
	CHECK(nothing->result == PcpResult::NoResources);
	CHECK(nothing->lifetime == 30);

	auto unsupp = decode_response(hex("02 85 00 04 00000000 0000000a"
	                                  "00000000 00000000 00000000"));
	REQUIRE(unsupp.ok());
	CHECK(unsupp->result == PcpResult::UnsuppOpcode);

	auto announce = decode_response(hex("02 80 00 00 00000000 00000000"
	                                    "00000000 00000000 00000000"));
	REQUIRE(announce.ok());
	CHECK(announce->opcode == Opcode::Announce);

	// fuzz/corpus/natpmp/miniupnpd-natpmp-*.bin: errors come in the full form.
	auto denied = decode_natpmp_response(hex("00 82 0002 0000000a 0050 0050 00000e10"));
	REQUIRE(denied.ok());
	CHECK(denied->result == NatPmpResult::NotAuthorized);
	CHECK(denied->internal_port == 80);
	auto unmap = decode_natpmp_response(hex("00 82 0000 0000000a 2454 0000 00000000"));
	REQUIRE(unmap.ok());
	CHECK(unmap->external_port == 0);
	CHECK(unmap->lifetime == 0);
}
