// HTTP/1.1 client over asio (RFC 9112 §3 request line, §9.6 Connection:
// close). One composed operation per request, owning its socket and its two
// timers; it lives as long as one of its handlers is pending.
#include "http/http_client.hpp"

#include "net/address.hpp"
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>

namespace plum::http {

namespace {

char lower(char c) noexcept {
	return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
	return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
	                                          [](char x, char y) { return lower(x) == lower(y); });
}

bool is_token(std::string_view s) noexcept {
	return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
	});
}

bool is_field_value(std::string_view s) noexcept {
	return std::all_of(s.begin(), s.end(), [](char c) {
		const auto u = static_cast<unsigned char>(c);
		return u == '\t' || (u >= 0x20 && u != 0x7f);
	});
}

} // namespace

Result<std::string> serialize_request(const Request &request) {
	if (!is_token(request.method))
		return Error(Errc::invalid_argument, "bad HTTP method");
	// The Url may have been built by hand: it must be one we would parse.
	auto checked = parse_url(request.url.to_string());
	if (!checked || request.url.path.empty() || request.url.path.front() != '/')
		return Error(Errc::invalid_argument, "bad request URL");

	std::string out;
	out.reserve(256 + request.body.size());
	out += request.method;
	out += ' ';
	out += request.url.path;
	out += " HTTP/1.1\r\nHost: ";
	out += request.url.host_header();
	out += "\r\nConnection: close\r\n";
	for (const auto &[name, value] : request.headers) {
		if (!is_token(name) || !is_field_value(value))
			return Error(Errc::invalid_argument, "bad request header");
		for (std::string_view reserved :
		     {"Host", "Connection", "Content-Length", "Transfer-Encoding"})
			if (iequals(name, reserved))
				return Error(Errc::invalid_argument, "reserved request header " + name);
		out += name;
		out += ": ";
		out += value;
		out += "\r\n";
	}
	// A POST with an empty body still says so (RFC 9110 §8.6); GET and HEAD
	// without a body carry no Content-Length.
	if (!request.body.empty() || (request.method != "GET" && request.method != "HEAD")) {
		out += "Content-Length: ";
		out += std::to_string(request.body.size());
		out += "\r\n";
	}
	out += "\r\n";
	out += request.body;
	return out;
}

namespace detail {

class RequestOp : public std::enable_shared_from_this<RequestOp> {
public:
	RequestOp(asio::io_context &io, Request request, Limits limits,
	          std::function<void(Result<Response>)> done)
	    : io_(io), socket_(io), resolver_(io), connect_timer_(io), total_timer_(io),
	      request_(std::move(request)), limits_(limits), parser_(limits, request_.method == "HEAD"),
	      done_(std::move(done)) {}

	void start() {
		auto wire = serialize_request(request_);
		if (!wire)
			return complete(wire.error());
		out_ = std::move(*wire);

		total_timer_.expires_after(limits_.total_timeout);
		total_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
			if (!ec)
				self->complete(Error(Errc::timeout, "no complete HTTP response in time"));
		});
		connect_timer_.expires_after(limits_.connect_timeout);
		connect_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
			if (!ec && !self->connected_)
				self->complete(Error(Errc::timeout, "HTTP connect timed out"));
		});

		std::error_code ec;
		const auto address = net::parse_address_v4(request_.url.host, ec);
		if (!ec) {
			socket_.async_connect(
			    asio::ip::tcp::endpoint(address, request_.url.port),
			    [self = shared_from_this()](std::error_code e) { self->on_connect(e); });
			return;
		}
		resolver_.async_resolve(
		    asio::ip::tcp::v4(), request_.url.host, std::to_string(request_.url.port),
		    [self = shared_from_this()](std::error_code e,
		                                asio::ip::tcp::resolver::results_type results) {
			    if (self->finished_)
				    return;
			    if (e || results.empty())
				    return self->complete(
				        Error(make_error_code(HttpErrc::resolve_failed), self->request_.url.host));
			    asio::async_connect(self->socket_, results,
			                        [self](std::error_code e2, const asio::ip::tcp::endpoint &) {
				                        self->on_connect(e2);
			                        });
		    });
	}

	// From any thread: the work happens on the io_context.
	void cancel() {
		asio::post(io_, [self = shared_from_this()] {
			self->complete(Error(Errc::cancelled, "HTTP request cancelled"));
		});
	}

	bool finished() const noexcept { return finished_.load(); }

private:
	void on_connect(std::error_code ec) {
		if (finished_)
			return;
		if (ec == asio::error::connection_refused)
			return complete(Error(Errc::unreachable, "HTTP connection refused"));
		if (ec)
			return complete(Error(make_error_code(HttpErrc::connect_failed), ec.message()));
		connected_ = true;
		connect_timer_.cancel();
		asio::async_write(socket_, asio::buffer(out_),
		                  [self = shared_from_this()](std::error_code e, size_t) {
			                  if (self->finished_)
				                  return;
			                  if (e)
				                  return self->complete(
				                      Error(make_error_code(HttpErrc::send_failed), e.message()));
			                  self->read();
		                  });
	}

	void read() {
		socket_.async_read_some(
		    asio::buffer(rbuf_),
		    [self = shared_from_this()](std::error_code ec, size_t n) { self->on_read(ec, n); });
	}

	void on_read(std::error_code ec, size_t n) {
		if (finished_)
			return;
		auto status = ResponseParser::Status::NeedMore;
		if (n > 0)
			status = parser_.feed(as_bytes(std::string_view(rbuf_.data(), n)));
		if (status == ResponseParser::Status::NeedMore && ec == asio::error::eof)
			status = parser_.finish();
		switch (status) {
		case ResponseParser::Status::Done: return complete(parser_.take());
		case ResponseParser::Status::Failed: return complete(parser_.error());
		case ResponseParser::Status::NeedMore: break;
		}
		if (ec)
			return complete(Error(make_error_code(HttpErrc::receive_failed), ec.message()));
		read();
	}

	// The single exit: stops all I/O and posts the result once.
	void complete(Result<Response> result) {
		if (finished_.exchange(true))
			return;
		std::error_code ignored;
		connect_timer_.cancel();
		total_timer_.cancel();
		resolver_.cancel();
		socket_.close(ignored);
		asio::post(io_, [done = std::move(done_), result = std::move(result)]() mutable {
			done(std::move(result));
		});
	}

	asio::io_context &io_;
	asio::ip::tcp::socket socket_;
	asio::ip::tcp::resolver resolver_;
	asio::steady_timer connect_timer_;
	asio::steady_timer total_timer_;
	Request request_;
	Limits limits_;
	ResponseParser parser_;
	std::function<void(Result<Response>)> done_;
	std::string out_;
	std::array<char, 4096> rbuf_{};
	// Written only on the io_context thread; atomic so that active() may be
	// asked from elsewhere.
	std::atomic<bool> finished_{false};
	bool connected_ = false;
};

} // namespace detail

void RequestHandle::cancel() {
	if (auto op = op_.lock(); op && !op->finished())
		op->cancel();
}

bool RequestHandle::active() const {
	auto op = op_.lock();
	return op && !op->finished();
}

RequestHandle async_request(asio::io_context &io, Request request, Limits limits,
                            std::function<void(Result<Response>)> done) {
	auto op = std::make_shared<detail::RequestOp>(io, std::move(request), limits, std::move(done));
	// start() only initiates operations and posts; it never calls done inline.
	op->start();
	return RequestHandle(op);
}

} // namespace plum::http
