// The client against a tiny TCP server on 127.0.0.1 (OS-chosen port) that
// runs in its own thread and plays one scripted reply per test.
#include "http/http_client.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

using namespace plum;
using namespace plum::http;
using namespace std::chrono_literals;

namespace {

using tcp = asio::ip::tcp;

// Accepts one connection, reads the request head (and a Content-Length
// body), then runs the script with the socket. Blocking I/O in its own
// thread; every script is bounded in bytes and time.
class TestServer {
public:
	using Script = std::function<void(tcp::socket &)>;

	explicit TestServer(Script script)
	    : acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
	      script_(std::move(script)) {
		port_ = acceptor_.local_endpoint().port();
		thread_ = std::thread([this] { run(); });
	}
	~TestServer() {
		if (!accepted_.load()) {
			// Unblock accept() with a connection of our own.
			std::error_code ec;
			tcp::socket s(io_);
			s.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port_), ec);
			thread_.join();
		} else {
			thread_.join();
		}
	}

	uint16_t port() const { return port_; }
	Url url(std::string path = "/") const { return Url{"127.0.0.1", port_, std::move(path)}; }
	// Valid after the client has completed (the server read it before replying).
	std::string request() const {
		std::lock_guard lock(mutex_);
		return request_;
	}
	int connections() const { return connections_.load(); }

private:
	void run() {
		std::error_code ec;
		tcp::socket s(io_);
		acceptor_.accept(s, ec);
		accepted_ = true;
		if (ec)
			return;
		++connections_;
		std::string buf;
		const size_t head = asio::read_until(s, asio::dynamic_buffer(buf, 65536), "\r\n\r\n", ec);
		if (ec)
			return;
		size_t body = 0;
		if (auto p = buf.find("Content-Length: "); p != std::string::npos && p < head)
			body = std::stoul(buf.substr(p + 16));
		if (buf.size() < head + body)
			asio::read(s, asio::dynamic_buffer(buf, 65536),
			           asio::transfer_exactly(head + body - buf.size()), ec);
		{
			std::lock_guard lock(mutex_);
			request_ = buf;
		}
		// The one connection the client makes; a second one would be a
		// redirect being followed: count it.
		acceptor_.non_blocking(true);
		script_(s);
		tcp::socket extra(io_);
		acceptor_.accept(extra, ec);
		if (!ec)
			++connections_;
	}

	asio::io_context io_;
	tcp::acceptor acceptor_;
	Script script_;
	uint16_t port_ = 0;
	std::thread thread_;
	std::atomic<bool> accepted_{false};
	std::atomic<int> connections_{0};
	mutable std::mutex mutex_;
	std::string request_;
};

void send(tcp::socket &s, std::string_view data) {
	std::error_code ec;
	asio::write(s, asio::buffer(data), ec);
}

// Waits for the peer to close (or 5 s), so that the server does not close first.
void wait_for_close(tcp::socket &s) {
	std::error_code ec;
	s.non_blocking(false);
	char c;
	const auto deadline = std::chrono::steady_clock::now() + 5s;
	while (std::chrono::steady_clock::now() < deadline) {
		s.read_some(asio::buffer(&c, 1), ec);
		if (ec)
			return;
	}
}

struct Outcome {
	std::optional<Result<Response>> result;
	int calls = 0;
	std::chrono::milliseconds elapsed{0};
};

Outcome run_request(Request request, Limits limits = {}) {
	asio::io_context io;
	Outcome out;
	const auto start = std::chrono::steady_clock::now();
	async_request(io, std::move(request), limits, [&](Result<Response> r) {
		++out.calls;
		out.result.emplace(std::move(r));
		out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
		    std::chrono::steady_clock::now() - start);
	});
	io.run_for(10s);
	return out;
}

Request get(const Url &url) {
	Request r;
	r.url = url;
	return r;
}

} // namespace

TEST_CASE("a normal response, and the request as it goes on the wire") {
	TestServer server([](tcp::socket &s) {
		send(s, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 7\r\n\r\n<root/>");
	});
	auto out = run_request(get(server.url("/rootDesc.xml")));
	REQUIRE(out.calls == 1);
	REQUIRE(out.result->ok());
	CHECK((*out.result)->status == 200);
	CHECK((*out.result)->body == "<root/>");
	CHECK(server.request() == "GET /rootDesc.xml HTTP/1.1\r\nHost: 127.0.0.1:" +
	                              std::to_string(server.port()) + "\r\nConnection: close\r\n\r\n");
}

TEST_CASE("a POST carries its headers, Content-Length and body (a SOAP action)") {
	TestServer server([](tcp::socket &s) {
		send(s, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\nfault");
	});
	Request req;
	req.method = "POST";
	req.url = server.url("/ctl/IPConn");
	req.headers = {
	    {"Content-Type", "text/xml; charset=\"utf-8\""},
	    {"SOAPAction", "\"urn:schemas-upnp-org:service:WANIPConnection:1#GetExternalIPAddress\""}};
	req.body = "<s:Envelope/>";
	auto out = run_request(req);
	REQUIRE(out.result->ok());
	CHECK((*out.result)->status == 500); // a status code is a response, not a transport error
	CHECK((*out.result)->body == "fault");
	const std::string wire = server.request();
	CHECK(wire.rfind("POST /ctl/IPConn HTTP/1.1\r\n", 0) == 0);
	CHECK(wire.find("\r\nContent-Length: 13\r\n") != std::string::npos);
	CHECK(wire.find("\r\nSOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#"
	                "GetExternalIPAddress\"\r\n") != std::string::npos);
	CHECK(wire.substr(wire.size() - 13) == "<s:Envelope/>");
}

TEST_CASE("a chunked response") {
	TestServer server([](tcp::socket &s) {
		send(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n<roo\r\n");
		send(s, "3\r\nt/>\r\n0\r\n\r\n");
		wait_for_close(s);
	});
	auto out = run_request(get(server.url()));
	REQUIRE(out.result->ok());
	CHECK((*out.result)->body == "<root/>");
}

TEST_CASE("a body that runs until the server closes") {
	TestServer server([](tcp::socket &s) { send(s, "HTTP/1.0 200 OK\r\n\r\nall of it"); });
	auto out = run_request(get(server.url()));
	REQUIRE(out.result->ok());
	CHECK((*out.result)->body == "all of it");
}

TEST_CASE("a server that dribbles byte by byte hits the total timeout") {
	TestServer server([](tcp::socket &s) {
		const std::string reply =
		    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x');
		std::error_code ec;
		for (char c : reply) { // at most ~140 * 20 ms; stops when the client has gone
			asio::write(s, asio::buffer(&c, 1), ec);
			if (ec)
				return;
			std::this_thread::sleep_for(20ms);
		}
	});
	Limits limits;
	limits.total_timeout = 300ms;
	auto out = run_request(get(server.url()), limits);
	REQUIRE(out.calls == 1);
	REQUIRE_FALSE(out.result->ok());
	CHECK(out.result->error() == Errc::timeout);
	CHECK(out.elapsed >= 300ms);
	CHECK(out.elapsed < 2000ms);
}

TEST_CASE("a server that never answers hits the total timeout") {
	TestServer server([](tcp::socket &s) { wait_for_close(s); });
	Limits limits;
	limits.total_timeout = 200ms;
	auto out = run_request(get(server.url()), limits);
	REQUIRE_FALSE(out.result->ok());
	CHECK(out.result->error() == Errc::timeout);
	CHECK(out.elapsed < 2000ms);
}

TEST_CASE("a response cut short is Errc::truncated") {
	TestServer server(
	    [](tcp::socket &s) { send(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"); });
	auto out = run_request(get(server.url()));
	REQUIRE_FALSE(out.result->ok());
	CHECK(out.result->error() == Errc::truncated);
}

TEST_CASE("a 2 GiB Content-Length is refused at once") {
	TestServer server([](tcp::socket &s) {
		send(s, "HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n");
		wait_for_close(s);
	});
	auto out = run_request(get(server.url()));
	REQUIRE_FALSE(out.result->ok());
	CHECK(out.result->error() == Errc::too_large);
	CHECK(out.elapsed < 2000ms);
}

TEST_CASE("a body over the limit stops the read") {
	TestServer server([](tcp::socket &s) {
		send(s, "HTTP/1.1 200 OK\r\n\r\n");
		const std::string block(4096, 'x');
		std::error_code ec;
		for (int i = 0; i < 64 && !ec; ++i) // 256 KiB at most
			asio::write(s, asio::buffer(block), ec);
	});
	Limits limits;
	limits.max_body = 10000;
	auto out = run_request(get(server.url()), limits);
	REQUIRE_FALSE(out.result->ok());
	CHECK(out.result->error() == Errc::too_large);
}

TEST_CASE("a redirect is returned, not followed") {
	TestServer server([](tcp::socket &s) {
		send(s, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: "
		        "0\r\n\r\n");
	});
	auto out = run_request(get(server.url()));
	REQUIRE(out.result->ok());
	CHECK((*out.result)->status == 302);
	CHECK((*out.result)->header("location") == "http://127.0.0.1:1/elsewhere");
	CHECK(server.connections() == 1);
}

TEST_CASE("a refused connection fails quickly as Errc::unreachable") {
	uint16_t port = 0;
	{
		asio::io_context io;
		tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
		port = a.local_endpoint().port();
	} // closed: nothing listens there now
	auto out = run_request(get(Url{"127.0.0.1", port, "/"}));
	REQUIRE(out.calls == 1);
	REQUIRE_FALSE(out.result->ok());
	CHECK(out.result->error() == Errc::unreachable);
	CHECK(out.elapsed < 1000ms);
}

TEST_CASE("cancel completes once with Errc::cancelled, never inline") {
	TestServer server([](tcp::socket &s) { wait_for_close(s); });
	asio::io_context io;
	int calls = 0;
	std::optional<Result<Response>> result;
	auto handle = async_request(io, get(server.url()), Limits{}, [&](Result<Response> r) {
		++calls;
		result.emplace(std::move(r));
	});
	CHECK(calls == 0);
	CHECK(handle.active());
	// Let it connect and send, then cancel from inside the loop.
	asio::steady_timer t(io, 50ms);
	t.async_wait([&](std::error_code) {
		handle.cancel();
		handle.cancel();   // twice is harmless
		CHECK(calls == 0); // completion is posted
	});
	io.run_for(5s);
	REQUIRE(calls == 1);
	REQUIRE_FALSE(result->ok());
	CHECK(result->error() == Errc::cancelled);
	CHECK_FALSE(handle.active());
	handle.cancel(); // after completion: a no-op
	RequestHandle empty;
	empty.cancel();
	CHECK_FALSE(empty.active());
}

TEST_CASE("bad requests are refused before any connection") {
	Request bad = get(Url{"127.0.0.1", 1, "/"});
	bad.headers = {{"X-Evil", "a\r\nHost: other"}};
	auto out = run_request(bad);
	REQUIRE_FALSE(out.result->ok());
	CHECK(out.result->error() == Errc::invalid_argument);

	Request reserved = get(Url{"127.0.0.1", 1, "/"});
	reserved.headers = {{"host", "other"}};
	CHECK_FALSE(serialize_request(reserved).ok());
	Request method = get(Url{"127.0.0.1", 1, "/"});
	method.method = "GET /x";
	CHECK_FALSE(serialize_request(method).ok());
	Request path = get(Url{"127.0.0.1", 1, "/a b"});
	CHECK_FALSE(serialize_request(path).ok());
	Request head = get(Url{"127.0.0.1", 8080, "/x"});
	head.method = "HEAD";
	CHECK(serialize_request(head).value() ==
	      "HEAD /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n");
}

TEST_CASE("HTTP error category names status codes and transport errors") {
	CHECK(Error(status_error_code(404)).message() == "HTTP: 404 Not Found");
	CHECK(status_error(500, "from the router").message() ==
	      "HTTP: 500 Internal Server Error: from the router");
	CHECK(Error(make_error_code(HttpErrc::connect_failed)).message() == "HTTP: connect failed");
	CHECK(std::error_code(HttpErrc::receive_failed).category().name() == std::string("HTTP"));
}
