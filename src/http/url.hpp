// http:// URLs as UPnP control points meet them (RFC 3986 §3, §5.2).
//
//   http://host[:port][/path][?query][#fragment]
//          └ IPv4 literal or a DNS name; no userinfo, no IPv6 literal
//
// The LOCATION of an SSDP answer, the URLBase of a device description and its
// controlURLs are all http URLs on the local network: no https, no userinfo.
// Anything odd (control characters, spaces, a port out of range, over-long
// input) is refused here, so later layers can put host and path on the wire
// without escaping. A fragment is dropped: it never goes into a request.
#pragma once

#include "plum/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace plum::http {

// Longer than any URL a router sends; bounds what we store and log.
inline constexpr size_t kMaxUrlLength = 2048;

struct Url {
	std::string host;       // lowercase; IPv4 literal or DNS name
	uint16_t port = 80;     // 1..65535
	std::string path = "/"; // absolute path plus optional "?query", never a fragment

	// "http://host[:port]/path?query" (":80" omitted).
	std::string to_string() const;
	// The Host header value: "host" or "host:port" (":80" omitted).
	std::string host_header() const;

	friend bool operator==(const Url &, const Url &) = default;
};

// Parses an absolute http URL. Errc::too_large over kMaxUrlLength, otherwise
// Errc::malformed for anything that is not a plain http URL.
Result<Url> parse_url(std::string_view text);

// RFC 3986 §5.2 reference resolution for what UPnP descriptions contain: an
// absolute http URL, a network-path ("//host/..."), an absolute path, a
// relative path (against the base's directory), a query-only or empty
// reference; dot segments removed (§5.2.4). Errors: Errc::malformed.
Result<Url> resolve_url(const Url &base, std::string_view reference);

// §5.2.4 remove_dot_segments on a path without query (exposed for tests).
std::string remove_dot_segments(std::string_view path);

} // namespace plum::http
