#include "http/response_parser.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace plum;
using namespace plum::http;

namespace {

Result<Response> parse(std::string_view s, const Limits &limits = {}) {
	return parse_response(as_bytes(s), limits);
}

// The same input fed one byte at a time must give the same outcome.
Result<Response> parse_bytewise(std::string_view s, const Limits &limits = {}) {
	ResponseParser p(limits);
	auto st = ResponseParser::Status::NeedMore;
	for (size_t i = 0; i < s.size() && st == ResponseParser::Status::NeedMore; ++i)
		st = p.feed(as_bytes(s.substr(i, 1)));
	if (st == ResponseParser::Status::NeedMore)
		st = p.finish();
	if (st == ResponseParser::Status::Done)
		return p.take();
	return p.error();
}

void check_fails(std::string_view s, Errc e, const Limits &limits = {}) {
	auto whole = parse(s, limits);
	REQUIRE_FALSE(whole.ok());
	CHECK(whole.error() == e);
	auto bytewise = parse_bytewise(s, limits);
	REQUIRE_FALSE(bytewise.ok());
	CHECK(bytewise.error() == e);
}

Response check_ok(std::string_view s, const Limits &limits = {}) {
	auto whole = parse(s, limits);
	REQUIRE(whole.ok());
	auto bytewise = parse_bytewise(s, limits);
	REQUIRE(bytewise.ok());
	CHECK(bytewise->status == whole->status);
	CHECK(bytewise->headers == whole->headers);
	CHECK(bytewise->body == whole->body);
	return *whole;
}

} // namespace

TEST_CASE("Content-Length body, the way miniupnpd answers") {
	const auto r = check_ok("HTTP/1.1 200 OK\r\n"
	                        "Content-Type: text/xml; charset=\"utf-8\"\r\n"
	                        "Connection: close\r\n"
	                        "Content-Length: 5\r\n"
	                        "Server: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n"
	                        "Ext:\r\n"
	                        "\r\n"
	                        "hello");
	CHECK(r.status == 200);
	CHECK(r.reason == "OK");
	CHECK(r.body == "hello");
	REQUIRE(r.headers.size() == 5);
	CHECK(r.headers[4].first == "Ext");
	CHECK(r.headers[4].second.empty());
	CHECK(r.header("content-type") == "text/xml; charset=\"utf-8\"");
	CHECK(r.header("CONTENT-LENGTH") == "5");
	CHECK_FALSE(r.header("Location").has_value());
}

TEST_CASE("header names are case-insensitive and values lose their OWS") {
	const auto r =
	    check_ok("HTTP/1.1 200 OK\r\nCONTENT-LENGTH:   2 \t\r\nx-Odd:\tv a l\t\r\n\r\nab");
	CHECK(r.body == "ab");
	CHECK(r.header("Content-Length") == "2");
	CHECK(r.header("X-ODD") == "v a l");
}

TEST_CASE("bytes after a complete response are ignored") {
	const auto r = check_ok("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabHTTP/1.1 500 X\r\n\r\n");
	CHECK(r.status == 200);
	CHECK(r.body == "ab");
}

TEST_CASE("chunked body with extensions and trailers") {
	const auto r = check_ok("HTTP/1.1 200 OK\r\n"
	                        "Transfer-Encoding: chunked\r\n"
	                        "\r\n"
	                        "5;name=value\r\n"
	                        "hello\r\n"
	                        "0007 ; a=\"b\";c\r\n"
	                        ", world\r\n"
	                        "A\r\n"
	                        "0123456789\r\n"
	                        "0\r\n"
	                        "X-Trailer: yes\r\n"
	                        "Content-Length: 999\r\n"
	                        "\r\n");
	CHECK(r.body == "hello, world0123456789");
	CHECK_FALSE(r.header("X-Trailer").has_value()); // trailers are checked, then dropped
	CHECK(r.header("Transfer-Encoding") == "chunked");
}

TEST_CASE("Transfer-Encoding is matched case-insensitively, and bare LF lines are accepted") {
	const auto r = check_ok("HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n3\nabc\n0\n\n");
	CHECK(r.body == "abc");
}

TEST_CASE("no length: the body runs to the end of the connection") {
	const auto r = check_ok("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n<root/>\r\n");
	CHECK(r.body == "<root/>\r\n");
	const auto empty = check_ok("HTTP/1.1 200 OK\r\n\r\n");
	CHECK(empty.body.empty());
}

TEST_CASE("interim 1xx responses are skipped") {
	const auto r = check_ok("HTTP/1.1 100 Continue\r\n\r\n"
	                        "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
	                        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nbad");
	CHECK(r.status == 500);
	CHECK(r.reason == "Internal Server Error");
	CHECK(r.body == "bad");
	CHECK_FALSE(r.header("Link").has_value());
	check_fails("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", Errc::unsupported);
}

TEST_CASE("status lines: reason optional, version 1.0/1.1 only") {
	CHECK(check_ok("HTTP/1.1 204\r\n\r\n").reason.empty());
	CHECK(check_ok("HTTP/1.1 204 \r\n\r\n").status == 204);
	CHECK(check_ok("HTTP/1.1 302 Found\r\nLocation: http://evil/\r\nContent-Length: 0\r\n\r\n")
	          .header("location") == "http://evil/");
	check_fails("HTTP/2 200 OK\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.2 200 OK\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 20 OK\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 2000 OK\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 099 X\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 600 X\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 200 O\rK\r\n\r\n", Errc::malformed);
	check_fails("http/1.1 200 OK\r\n\r\n", Errc::malformed);
	check_fails("\r\nHTTP/1.1 200 OK\r\n\r\n", Errc::malformed);
}

TEST_CASE("204, 304 and HEAD responses have no body whatever the headers say") {
	CHECK(check_ok("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n").body.empty());
	CHECK(check_ok("HTTP/1.1 304 Not Modified\r\n\r\n").body.empty());
	ResponseParser head(Limits{}, true);
	CHECK(head.feed(as_bytes("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")) ==
	      ResponseParser::Status::Done);
	CHECK(head.response().body.empty());
}

TEST_CASE("malformed header blocks") {
	check_fails("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", Errc::malformed); // obs-fold
	check_fails("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\n: a\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", Errc::malformed);
	check_fails(std::string_view("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 28), Errc::malformed);
	check_fails("garbage", Errc::truncated);
	check_fails("garbage\r\n\r\n", Errc::malformed);
	check_fails("", Errc::truncated);
}

TEST_CASE("Content-Length: duplicates must agree, digits only") {
	CHECK(check_ok("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc").body ==
	      "abc");
	CHECK(check_ok("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc").body == "abc");
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	            Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd", Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", Errc::malformed);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	            Errc::too_large);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n", Errc::too_large);
}

TEST_CASE("Transfer-Encoding other than chunked, or with Content-Length, is refused") {
	check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", Errc::unsupported);
	check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Errc::unsupported);
	check_fails(
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    Errc::unsupported);
	check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
	            "3\r\nabc\r\n0\r\n\r\n",
	            Errc::malformed);
}

TEST_CASE("bad chunk sizes and framing") {
	const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	check_fails(head + "g\r\nx\r\n0\r\n\r\n", Errc::malformed);
	check_fails(head + "\r\n", Errc::malformed);
	check_fails(head + "-1\r\n", Errc::malformed);
	check_fails(head + "3 x\r\nabc\r\n0\r\n\r\n", Errc::malformed);
	check_fails(head + "3;a\rb\r\nabc\r\n0\r\n\r\n", Errc::malformed);
	check_fails(head + "3\r\nabcd\r\n0\r\n\r\n", Errc::malformed); // data longer than its size
	check_fails(head + "ffffffffffffffffff\r\n", Errc::too_large); // overflows 64 bits
	check_fails(head + "ffffffffffffffff\r\n", Errc::too_large);   // fits, but over the limit
	check_fails(head + "10001\r\n", Errc::too_large);              // 65537 > 64 KiB
	check_fails(head + "0\r\nBad Trailer\r\n\r\n", Errc::malformed);
}

TEST_CASE("a body cut short is an error, never a partial success") {
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", Errc::truncated);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n", Errc::truncated);
	check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", Errc::truncated);
	check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n",
	            Errc::truncated); // no last chunk
	check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", Errc::truncated);
	check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
	            Errc::truncated); // trailer section not ended
}

TEST_CASE("header limits: bytes and count") {
	Limits limits;
	// Exactly at the byte limit passes; one more byte fails.
	const std::string status = "HTTP/1.1 200 OK\r\n";
	const std::string fill_name = "X: ";
	const size_t fill = limits.max_header_bytes - status.size() - fill_name.size() - 2 - 2;
	const std::string at_limit = status + fill_name + std::string(fill, 'a') + "\r\n\r\n";
	REQUIRE(at_limit.size() == limits.max_header_bytes);
	CHECK(check_ok(at_limit).header("x")->size() == fill);
	const std::string over = status + fill_name + std::string(fill + 1, 'a') + "\r\n\r\n";
	check_fails(over, Errc::too_large);
	// A header line that never ends fails as soon as it is over the limit.
	ResponseParser p;
	CHECK(p.feed(as_bytes(status + "X: ")) == ResponseParser::Status::NeedMore);
	const std::string endless(limits.max_header_bytes, 'a');
	CHECK(p.feed(as_bytes(endless)) == ResponseParser::Status::Failed);
	CHECK(p.error() == Errc::too_large);

	std::string many = status;
	for (size_t i = 0; i < limits.max_headers; ++i)
		many += "H" + std::to_string(i) + ": v\r\n";
	CHECK(check_ok(many + "\r\n").headers.size() == limits.max_headers);
	check_fails(many + "One: more\r\n\r\n", Errc::too_large);

	Limits small;
	small.max_header_bytes = 64;
	check_fails(
	    "HTTP/1.1 100 Continue\r\nA: 0123456789\r\n\r\nHTTP/1.1 200 OK\r\nB: 0123456789\r\n\r\n",
	    Errc::too_large, small); // interim heads count too
}

TEST_CASE("body limits: Content-Length, chunked and until-close") {
	Limits limits;
	limits.max_body = 16;
	CHECK(check_ok("HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n0123456789abcdef", limits)
	          .body.size() == 16);
	check_fails("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n", Errc::too_large, limits);
	check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n9\r\n",
	            Errc::too_large, limits);
	CHECK(check_ok("HTTP/1.1 200 OK\r\n\r\n0123456789abcdef", limits).body.size() == 16);
	check_fails("HTTP/1.1 200 OK\r\n\r\n0123456789abcdefg", Errc::too_large, limits);
	// 2 GiB announced: refused at the end of the headers, before any body.
	ResponseParser p;
	CHECK(p.feed(as_bytes("HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n")) ==
	      ResponseParser::Status::Failed);
	CHECK(p.error() == Errc::too_large);
}

TEST_CASE("chunk framing is bounded too") {
	Limits limits;
	limits.max_header_bytes = 128;
	limits.max_body = 128;
	std::string s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	for (int i = 0; i < 40; ++i)
		s += "1;ext=long-extension\r\na\r\n";
	check_fails(s, Errc::too_large, limits);
}

TEST_CASE("the parser stays failed or done") {
	ResponseParser p;
	CHECK(p.feed(as_bytes("garbage\r\n")) == ResponseParser::Status::Failed);
	CHECK(p.feed(as_bytes("HTTP/1.1 200 OK\r\n\r\n")) == ResponseParser::Status::Failed);
	CHECK(p.finish() == ResponseParser::Status::Failed);
	ResponseParser q;
	CHECK(q.feed(as_bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) ==
	      ResponseParser::Status::Done);
	CHECK(q.finish() == ResponseParser::Status::Done);
	CHECK(q.response().status == 200);
}
