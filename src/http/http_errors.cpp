#include "http/http_errors.hpp"

#include <string>

namespace plum::http {

namespace {

class HttpCategory final : public std::error_category {
public:
	const char *name() const noexcept override { return "HTTP"; }
	std::string message(int ev) const override {
		if (ev >= 100 && ev <= 599) {
			std::string s = std::to_string(ev);
			if (auto r = status_reason(ev); !r.empty())
				s += ' ' + std::string(r);
			return s;
		}
		switch (static_cast<HttpErrc>(ev)) {
		case HttpErrc::connect_failed: return "connect failed";
		case HttpErrc::resolve_failed: return "host name did not resolve";
		case HttpErrc::send_failed: return "sending the request failed";
		case HttpErrc::receive_failed: return "receiving the response failed";
		}
		return "unknown error " + std::to_string(ev);
	}
};

} // namespace

const std::error_category &http_category() noexcept {
	static const HttpCategory category;
	return category;
}

std::error_code make_error_code(HttpErrc e) noexcept {
	return {static_cast<int>(e), http_category()};
}

std::error_code status_error_code(int status) noexcept {
	return {status, http_category()};
}

Error status_error(int status, std::string_view reason) {
	return Error(status_error_code(status), std::string(reason));
}

std::string_view status_reason(int status) noexcept {
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return {};
	}
}

} // namespace plum::http
