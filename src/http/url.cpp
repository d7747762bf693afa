// RFC 3986 §3 (syntax) and §5.2 (reference resolution), restricted to http.
#include "http/url.hpp"

#include <algorithm>
#include <charconv>

namespace plum::http {

namespace {

constexpr std::string_view kScheme = "http://";

bool is_alpha(char c) noexcept {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
	return c >= '0' && c <= '9';
}
char to_lower(char c) noexcept {
	return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
	return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
		       return to_lower(x) == to_lower(y);
	       });
}

// Bytes that may never reach a request line: controls, space, DEL and
// non-ASCII (not valid in a URI; a router that sends them is broken, and
// passing them on would let it inject into our requests or logs).
bool is_forbidden(char c) noexcept {
	const auto u = static_cast<unsigned char>(c);
	return u <= 0x20 || u >= 0x7f;
}

// Dotted-quad, exactly four decimal parts 0..255 without leading zeros
// (inet_aton would read "010" as octal: refuse the ambiguity).
bool is_ipv4_literal(std::string_view h) noexcept {
	int parts = 0;
	size_t i = 0;
	while (true) {
		size_t j = i;
		while (j < h.size() && is_digit(h[j]))
			++j;
		const size_t len = j - i;
		if (len == 0 || len > 3 || (len > 1 && h[i] == '0'))
			return false;
		unsigned v = 0;
		for (size_t k = i; k < j; ++k)
			v = v * 10 + unsigned(h[k] - '0');
		if (v > 255)
			return false;
		++parts;
		if (j == h.size())
			return parts == 4;
		if (h[j] != '.' || parts == 4)
			return false;
		i = j + 1;
	}
}

// A DNS name or an IPv4 literal (RFC 3986 reg-name, narrowed to what a
// LAN device can mean). Empty labels are refused.
bool valid_host(std::string_view h) noexcept {
	if (h.empty() || h.size() > 253)
		return false;
	const bool numeric =
	    std::all_of(h.begin(), h.end(), [](char c) { return is_digit(c) || c == '.'; });
	if (numeric)
		return is_ipv4_literal(h);
	char prev = '.';
	for (char c : h) {
		if (c == '.') {
			if (prev == '.')
				return false;
		} else if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_')) {
			return false;
		}
		prev = c;
	}
	return prev != '.';
}

Error malformed(std::string_view what) {
	return Error(Errc::malformed, std::string(what));
}

// Splits "path?query#fragment" into path and "?query" (fragment dropped).
struct PathParts {
	std::string_view path;
	std::string_view query; // with its '?', or empty
	bool has_query = false;
};
PathParts split_path(std::string_view s) noexcept {
	if (auto hash = s.find('#'); hash != std::string_view::npos)
		s = s.substr(0, hash);
	PathParts p;
	if (auto q = s.find('?'); q != std::string_view::npos) {
		p.path = s.substr(0, q);
		p.query = s.substr(q);
		p.has_query = true;
	} else {
		p.path = s;
	}
	return p;
}

} // namespace

std::string Url::to_string() const {
	return std::string(kScheme) + host_header() + path;
}

std::string Url::host_header() const {
	if (port == 80)
		return host;
	return host + ':' + std::to_string(port);
}

Result<Url> parse_url(std::string_view text) {
	if (text.size() > kMaxUrlLength)
		return Error(Errc::too_large, "URL longer than 2048 bytes");
	// Checked over the whole input, fragment included: a fragment with a
	// space or a control character means the string is not a URL at all.
	if (std::any_of(text.begin(), text.end(), is_forbidden))
		return malformed("control character, space or non-ASCII byte in URL");
	if (text.size() < kScheme.size() || !iequals(text.substr(0, kScheme.size()), kScheme))
		return malformed("not an http:// URL");
	std::string_view rest = text.substr(kScheme.size());

	const size_t auth_end = std::min(rest.find_first_of("/?#"), rest.size());
	std::string_view authority = rest.substr(0, auth_end);
	std::string_view tail = rest.substr(auth_end);

	if (authority.find('@') != std::string_view::npos)
		return malformed("userinfo in URL");
	if (!authority.empty() && authority.front() == '[')
		return malformed("IPv6 literal in URL");

	Url url;
	std::string_view host = authority;
	if (auto colon = authority.find(':'); colon != std::string_view::npos) {
		host = authority.substr(0, colon);
		std::string_view port = authority.substr(colon + 1);
		if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit))
			return malformed("bad port in URL");
		unsigned value = 0;
		std::from_chars(port.data(), port.data() + port.size(), value);
		if (value == 0 || value > 65535)
			return malformed("port out of range in URL");
		url.port = static_cast<uint16_t>(value);
	}
	url.host.resize(host.size());
	std::transform(host.begin(), host.end(), url.host.begin(), to_lower);
	if (!valid_host(url.host))
		return malformed("bad host in URL");

	const PathParts parts = split_path(tail);
	url.path.clear();
	if (parts.path.empty())
		url.path = "/";
	else
		url.path = parts.path;
	url.path += parts.query;
	return url;
}

std::string remove_dot_segments(std::string_view path) {
	std::string in(path);
	std::string out;
	auto starts = [&](std::string_view p) { return in.compare(0, p.size(), p) == 0; };
	auto drop_last_segment = [&] {
		const auto slash = out.rfind('/');
		out.erase(slash == std::string::npos ? 0 : slash);
	};
	while (!in.empty()) {
		if (starts("../")) {
			in.erase(0, 3);
		} else if (starts("./")) {
			in.erase(0, 2);
		} else if (starts("/./")) {
			in.erase(0, 2);
		} else if (in == "/.") {
			in = "/";
		} else if (starts("/../")) {
			in.erase(0, 3);
			drop_last_segment();
		} else if (in == "/..") {
			in = "/";
			drop_last_segment();
		} else if (in == "." || in == "..") {
			in.clear();
		} else {
			// Move the first segment (its leading '/' included) to the output.
			const size_t next = in.find('/', 1);
			const size_t n = next == std::string::npos ? in.size() : next;
			out.append(in, 0, n);
			in.erase(0, n);
		}
	}
	return out;
}

Result<Url> resolve_url(const Url &base, std::string_view reference) {
	// Description XML often wraps values in whitespace; that is not part of
	// the reference.
	constexpr std::string_view kSpace = " \t\r\n";
	if (auto b = reference.find_first_not_of(kSpace); b != std::string_view::npos)
		reference = reference.substr(b, reference.find_last_not_of(kSpace) - b + 1);
	else
		reference = {};
	if (reference.size() > kMaxUrlLength)
		return malformed("reference longer than 2048 bytes");

	// §3.1: a scheme is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" before
	// any '/', '?' or '#'.
	const size_t colon = reference.find(':');
	if (colon != std::string_view::npos && colon < reference.find_first_of("/?#") && colon > 0 &&
	    is_alpha(reference[0]) &&
	    std::all_of(reference.begin(), reference.begin() + std::ptrdiff_t(colon), [](char c) {
		    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
	    })) {
		auto url = parse_url(reference);
		if (!url)
			return malformed(url.error().context());
		return url;
	}
	if (reference.substr(0, 2) == "//") {
		auto url = parse_url(std::string("http:") + std::string(reference));
		if (!url)
			return malformed(url.error().context());
		return url;
	}

	const PathParts ref = split_path(reference);
	const PathParts b = split_path(base.path);
	std::string path;
	std::string_view query = ref.query;
	if (ref.path.empty()) {
		path = b.path;
		if (!ref.has_query)
			query = b.query;
	} else if (ref.path.front() == '/') {
		path = remove_dot_segments(ref.path);
	} else {
		// §5.2.3 merge: the base path up to its last '/', then the reference.
		std::string merged;
		const auto slash = b.path.rfind('/');
		if (slash != std::string_view::npos)
			merged = b.path.substr(0, slash + 1);
		else
			merged = "/";
		merged += ref.path;
		path = remove_dot_segments(merged);
	}
	if (path.empty() || path.front() != '/')
		path.insert(path.begin(), '/');

	Url out;
	out.host = base.host;
	out.port = base.port;
	out.path = path + std::string(query);
	// One validation for every route: the result must be a URL we would
	// accept from the wire.
	auto checked = parse_url(out.to_string());
	if (!checked)
		return malformed(checked.error().context());
	return checked;
}

} // namespace plum::http
