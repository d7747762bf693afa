// The "HTTP" error category: response status codes and transport failures
// that plum::Errc does not name. Values 1..99 are transport errors; 100..599
// are status codes, so a UPnP layer can return "HTTP: 500 Internal Server
// Error" without inventing a code of its own.
#pragma once

#include "plum/result.hpp"

#include <string_view>
#include <system_error>

namespace plum::http {

enum class HttpErrc {
	connect_failed = 1, // TCP connect failed for a reason other than a refusal
	resolve_failed,     // the host name did not resolve to an IPv4 address
	send_failed,        // writing the request failed
	receive_failed,     // reading the response failed (reset, ...)
};

const std::error_category &http_category() noexcept;

std::error_code make_error_code(HttpErrc e) noexcept;

// A status code as an error: value = status, message "404 Not Found".
std::error_code status_error_code(int status) noexcept;
Error status_error(int status, std::string_view reason = {});

// The standard reason phrase of a status code ("Not Found"), or "".
std::string_view status_reason(int status) noexcept;

} // namespace plum::http

template <> struct std::is_error_code_enum<plum::http::HttpErrc> : std::true_type {};
