// A minimal HTTP/1.1 client for UPnP: one request per connection
// (`Connection: close`), every wait and every read bounded, redirects
// returned to the caller and never followed (a 3xx to another host is the
// oldest trick for making a control point talk to the wrong machine).
#pragma once

#include "http/http_errors.hpp"
#include "http/response_parser.hpp"
#include "http/url.hpp"
#include "plum/result.hpp"

#include <asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace plum::http {

struct Request {
	std::string method = "GET";
	Url url;
	// Extra headers (SOAPAction, Content-Type, ...). Host, Connection,
	// Content-Length and Transfer-Encoding are the client's: giving them
	// here is Errc::invalid_argument.
	std::vector<std::pair<std::string, std::string>> headers;
	std::string body;
};

// The request as it goes on the wire, or Errc::invalid_argument (a method or
// header that is not a token, CR/LF in a value, a reserved header, a Url
// that would not parse back).
Result<std::string> serialize_request(const Request &request);

namespace detail {
class RequestOp;
}

class RequestHandle {
public:
	RequestHandle() = default;
	// Abandons the request: the callback completes with Errc::cancelled
	// (unless it has already been posted with a result). Safe to call more
	// than once, after completion, and from any thread.
	void cancel();
	// True until the completion has been posted.
	bool active() const;

private:
	friend RequestHandle async_request(asio::io_context &, Request, Limits,
	                                   std::function<void(Result<Response>)>);
	explicit RequestHandle(std::weak_ptr<detail::RequestOp> op) : op_(std::move(op)) {}
	std::weak_ptr<detail::RequestOp> op_;
};

// Sends the request and reads one response. done is invoked exactly once,
// through asio::post on io, never from inside this call. Errors: Errc::timeout
// (connect_timeout or total_timeout), Errc::unreachable (connection refused),
// Errc::cancelled, the parser's Errc::truncated / too_large / malformed /
// unsupported, HttpErrc::* for other transport failures. Any status code,
// 3xx and 5xx included, is a successful Response.
RequestHandle async_request(asio::io_context &io, Request request, Limits limits,
                            std::function<void(Result<Response>)> done);

} // namespace plum::http
