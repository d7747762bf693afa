// UDA 1.1 §1.3.2 (M-SEARCH, search response) and §1.2.2/§1.2.3 (NOTIFY
// ssdp:alive / ssdp:byebye). The messages use HTTP/1.1 syntax over UDP
// (HTTPU/HTTPMU): a start line, header lines, an empty line, no body.
//
// Text protocol: lines are cut with std::string_view::find/substr, which
// cannot read past the datagram.
#include "core/text.hpp"
#include "upnp/ssdp.hpp"

#include "http/url.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace plum::upnp {

namespace {

using plum::iequals;

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
	return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) noexcept {
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
		s.remove_suffix(1);
	return s;
}

// Visible ASCII, obs-text, SP and HTAB: no CR, LF, NUL or other controls
// that would let a device inject into our logs or our requests.
bool valid_text(std::string_view s) noexcept {
	return std::all_of(s.begin(), s.end(), [](char c) {
		const auto u = static_cast<unsigned char>(c);
		return u == '\t' || (u >= 0x20 && u != 0x7f);
	});
}

std::string strip_crlf(std::string_view s) {
	std::string out;
	for (char c : s)
		if (c != '\r' && c != '\n')
			out += c;
	return out;
}

// "max-age = 1800" among the comma-separated Cache-Control directives.
std::optional<uint32_t> parse_max_age(std::string_view v) {
	while (!v.empty()) {
		const auto comma = v.find(',');
		std::string_view d = trim(v.substr(0, comma));
		v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
		const auto eq = d.find('=');
		if (eq == std::string_view::npos || !iequals(trim(d.substr(0, eq)), "max-age"))
			continue;
		std::string_view num = trim(d.substr(eq + 1));
		uint32_t out = 0;
		auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), out);
		if (ec != std::errc() || end != num.data() + num.size())
			return std::nullopt;
		return out;
	}
	return std::nullopt;
}

constexpr std::array<std::string_view, 5> kIgdTargets = {
    "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    "urn:schemas-upnp-org:service:WANIPConnection:2",
    "urn:schemas-upnp-org:service:WANIPConnection:1",
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
};

} // namespace

std::span<const std::string_view> igd_search_targets() {
	return kIgdTargets;
}

std::string build_msearch(std::string_view search_target, int mx_seconds,
                          std::string_view host_header) {
	// UDA 1.1: MX "SHOULD be between 1 and 5"; 0 is not allowed for multicast.
	const int mx = std::clamp(mx_seconds, 1, 5);
	std::string out;
	out.reserve(128 + search_target.size());
	out += "M-SEARCH * HTTP/1.1\r\nHOST: ";
	out += strip_crlf(host_header);
	out += "\r\nMAN: \"ssdp:discover\"\r\nMX: ";
	out += std::to_string(mx);
	out += "\r\nST: ";
	out += strip_crlf(search_target);
	out += "\r\n\r\n";
	return out;
}

Result<SsdpMessage> parse_ssdp(ByteSpan datagram) {
	if (datagram.size() > kMaxSsdpDatagram)
		return Error(Errc::too_large, "SSDP datagram over 8 KiB");
	std::string_view rest = as_chars(datagram);

	// One line at a time; CRLF or bare LF (some devices send LF only).
	auto next_line = [&rest](std::string_view &line) {
		if (rest.empty())
			return false;
		const auto lf = rest.find('\n');
		line = rest.substr(0, lf);
		rest = lf == std::string_view::npos ? std::string_view{} : rest.substr(lf + 1);
		if (!line.empty() && line.back() == '\r')
			line.remove_suffix(1);
		return true;
	};

	std::string_view start;
	if (!next_line(start))
		return Error(Errc::malformed, "empty SSDP datagram");
	SsdpMessage msg;
	if (istarts_with(start, "HTTP/1.")) {
		// "HTTP/1.1 200 OK": a search response. Reason text is not checked.
		if (start.size() < 12 || start[8] != ' ')
			return Error(Errc::malformed, "bad SSDP status line");
		if (start.substr(9, 3) != "200")
			return Error(Errc::unsupported, "SSDP response status is not 200");
		msg.kind = SsdpMessage::Kind::SearchResponse;
	} else if (istarts_with(start, "NOTIFY ")) {
		if (!iequals(start, "NOTIFY * HTTP/1.1") && !iequals(start, "NOTIFY * HTTP/1.0"))
			return Error(Errc::malformed, "bad NOTIFY line");
		msg.kind = SsdpMessage::Kind::Notify;
	} else if (istarts_with(start, "M-SEARCH ")) {
		return Error(Errc::unsupported, "M-SEARCH from another control point");
	} else {
		return Error(Errc::malformed, "not an SSDP message");
	}

	bool have_location = false, have_st = false, have_usn = false, have_server = false,
	     have_nts = false, have_cache = false;
	// A field given twice must say the same thing: two LOCATIONs are how a
	// confused (or hostile) device makes two parsers disagree.
	auto set_once = [](bool &have, std::string &field, std::string_view v) {
		if (have && field != v)
			return false;
		have = true;
		field = std::string(v);
		return true;
	};

	std::string cache_control;
	size_t headers = 0;
	std::string_view line;
	while (next_line(line)) {
		if (line.empty())
			break; // end of headers; SSDP messages have no body
		if (++headers > kMaxSsdpHeaders)
			return Error(Errc::too_large, "too many SSDP header lines");
		if (line.front() == ' ' || line.front() == '\t')
			return Error(Errc::malformed, "folded SSDP header line");
		const auto colon = line.find(':');
		if (colon == std::string_view::npos || colon == 0)
			return Error(Errc::malformed, "SSDP header line without a name");
		const std::string_view name = trim(line.substr(0, colon));
		const std::string_view value = trim(line.substr(colon + 1));
		if (!valid_text(name) || !valid_text(value))
			return Error(Errc::malformed, "control character in SSDP header");

		bool ok = true;
		if (iequals(name, "LOCATION")) {
			ok = set_once(have_location, msg.location, value);
		} else if (iequals(name, msg.kind == SsdpMessage::Kind::Notify ? "NT" : "ST")) {
			ok = set_once(have_st, msg.st, value);
		} else if (iequals(name, "USN")) {
			ok = set_once(have_usn, msg.usn, value);
		} else if (iequals(name, "SERVER")) {
			ok = set_once(have_server, msg.server, value);
		} else if (iequals(name, "NTS") && msg.kind == SsdpMessage::Kind::Notify) {
			ok = set_once(have_nts, msg.nts, value);
		} else if (iequals(name, "CACHE-CONTROL")) {
			ok = set_once(have_cache, cache_control, value);
			msg.max_age = parse_max_age(value);
		} else if (iequals(name, "BOOTID.UPNP.ORG")) {
			uint32_t id = 0;
			auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
			if (ec == std::errc() && end == value.data() + value.size() && id <= 0x7fffffffu) {
				if (msg.boot_id && *msg.boot_id != id)
					ok = false;
				msg.boot_id = id;
			}
		}
		if (!ok)
			return Error(Errc::malformed, "conflicting values for an SSDP header");
	}

	if (msg.st.empty())
		return Error(Errc::malformed, msg.kind == SsdpMessage::Kind::Notify
		                                  ? "NOTIFY without NT"
		                                  : "response without ST");
	const bool byebye = msg.kind == SsdpMessage::Kind::Notify && iequals(msg.nts, "ssdp:byebye");
	if (msg.kind == SsdpMessage::Kind::Notify && msg.nts.empty())
		return Error(Errc::malformed, "NOTIFY without NTS");
	// A byebye carries no LOCATION (UDA §1.2.3); everything else needs one.
	if (msg.location.empty() && !byebye)
		return Error(Errc::malformed, "SSDP message without LOCATION");
	if (!msg.location.empty()) {
		auto url = http::parse_url(msg.location);
		if (!url)
			return Error(Errc::malformed, "SSDP LOCATION is not an http URL");
	}
	return msg;
}

} // namespace plum::upnp
