#include "output.hpp"

#include "net/address.hpp"

#include <spdlog/fmt/fmt.h>

namespace plum::plumc {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_length(std::string_view s, size_t i) {
	const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
	const unsigned char c = byte(i);
	if (c < 0x80)
		return 1;
	size_t n = 0;
	uint32_t cp = 0;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (i + n > s.size())
		return 0;
	for (size_t k = 1; k < n; ++k) {
		if ((byte(i + k) & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (byte(i + k) & 0x3f);
	}
	const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
	if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

std::string ms_text(std::chrono::microseconds us) {
	return fmt::format("{:.2f} ms", static_cast<double>(us.count()) / 1000.0);
}

bool known(const asio::ip::address &a) {
	return !a.is_unspecified();
}

std::string mapping_text(IpProtocol protocol, uint16_t internal_port, std::string_view host,
                         uint16_t external_port, MappingProtocol via) {
	return fmt::format("{} {} -> {}:{} via {}", to_string(protocol), internal_port, printable(host),
	                   external_port, to_string(via));
}

// What an external address says about the path to the internet.
std::string nat_verdict(const asio::ip::address &external) {
	const std::string a = external.to_string();
	if (external.is_v4() && net::is_cgnat(external.to_v4()))
		return "external address " + a +
		       " is carrier-grade NAT space (100.64.0.0/10): double NAT, the ISP's NAT is "
		       "in the way";
	if (net::is_double_nat(external))
		return "external address " + a +
		       " is private: double NAT, another router's NAT is in the way";
	return "external address " + a + " is public: no double NAT";
}

} // namespace

std::string printable(std::string_view s) {
	std::string out;
	out.reserve(s.size());
	for (size_t i = 0; i < s.size();) {
		const size_t n = utf8_length(s, i);
		const unsigned char c = static_cast<unsigned char>(s[i]);
		// Escape sequences from a router must not reach the terminal.
		if (n == 0 || c < 0x20 || c == 0x7f) {
			out += '?';
			i += 1;
		} else {
			out.append(s.substr(i, n));
			i += n;
		}
	}
	return out;
}

std::string json_string(std::string_view s) {
	std::string out = "\"";
	for (size_t i = 0; i < s.size();) {
		const size_t n = utf8_length(s, i);
		const unsigned char c = static_cast<unsigned char>(s[i]);
		if (n == 0) {
			out += "\\ufffd";
			i += 1;
			continue;
		}
		if (c == '"' || c == '\\') {
			out += '\\';
			out += static_cast<char>(c);
		} else if (c == '\n') {
			out += "\\n";
		} else if (c == '\t') {
			out += "\\t";
		} else if (c < 0x20 || c == 0x7f) {
			out += fmt::format("\\u{:04x}", c);
		} else {
			out.append(s.substr(i, n));
		}
		i += n;
	}
	return out + "\"";
}

JsonObject &JsonObject::key(std::string_view k) {
	if (!body_.empty())
		body_ += ',';
	body_ += json_string(k);
	body_ += ':';
	return *this;
}

JsonObject &JsonObject::add_string(std::string_view k, std::string_view value) {
	key(k).body_ += json_string(value);
	return *this;
}

JsonObject &JsonObject::add_int(std::string_view k, int64_t value) {
	key(k).body_ += std::to_string(value);
	return *this;
}

JsonObject &JsonObject::add_bool(std::string_view k, bool value) {
	key(k).body_ += value ? "true" : "false";
	return *this;
}

JsonObject &JsonObject::add_ms(std::string_view k, std::chrono::microseconds value) {
	key(k).body_ += fmt::format("{:.3f}", static_cast<double>(value.count()) / 1000.0);
	return *this;
}

JsonObject &JsonObject::add_null(std::string_view k) {
	key(k).body_ += "null";
	return *this;
}

JsonObject &JsonObject::add_raw(std::string_view k, std::string_view json) {
	key(k).body_ += json;
	return *this;
}

std::string format_map(const MapReport &r, bool json) {
	if (json) {
		JsonObject o;
		o.add_string("protocol", to_string(r.protocol))
		    .add_int("internal_port", r.internal_port)
		    .add_string("external_host", r.external_host)
		    .add_int("external_port", r.external_port)
		    .add_string("mapping_protocol", to_string(r.via));
		if (r.lifetime)
			o.add_int("lifetime", *r.lifetime);
		else
			o.add_null("lifetime");
		return o.str() + "\n";
	}
	std::string line =
	    mapping_text(r.protocol, r.internal_port, r.external_host, r.external_port, r.via);
	if (!r.lifetime)
		line += " (the local address is public: nothing to map)";
	else if (*r.lifetime == 0)
		line += " (permanent lease)";
	else
		line += fmt::format(" (lifetime {} s)", *r.lifetime);
	return line + "\n";
}

std::string format_unmap(const UnmapReport &r, bool json) {
	if (json) {
		return JsonObject()
		           .add_string("protocol", to_string(r.protocol))
		           .add_int("internal_port", r.internal_port)
		           .add_int("external_port", r.external_port)
		           .add_string("mapping_protocol", to_string(r.via))
		           .add_bool("removed", true)
		           .str() +
		       "\n";
	}
	std::string line = fmt::format("{} {} unmapped via {}", to_string(r.protocol), r.internal_port,
	                               to_string(r.via));
	// UPnP deletes by external port; PCP and NAT-PMP by internal port.
	if (r.via == MappingProtocol::Upnp)
		line += fmt::format(" (external port {})", r.external_port);
	return line + "\n";
}

std::string format_state(State state, const Mapping &m, bool json) {
	if (json) {
		return JsonObject()
		           .add_string("state", to_string(state))
		           .add_string("protocol", to_string(m.protocol))
		           .add_int("internal_port", m.internal_port)
		           .add_string("external_host", m.external_host)
		           .add_int("external_port", m.external_port)
		           .add_string("mapping_protocol", to_string(m.mapping_protocol))
		           .str() +
		       "\n";
	}
	switch (state) {
	case State::Success:
		return fmt::format("SUCCESS {}\n",
		                   mapping_text(m.protocol, m.internal_port, m.external_host,
		                                m.external_port, m.mapping_protocol));
	case State::Failure:
		return fmt::format("FAILURE {} {}: the mapping is lost; retrying\n", to_string(m.protocol),
		                   m.internal_port);
	default:
		return fmt::format("{} {} {}\n", to_string(state), to_string(m.protocol), m.internal_port);
	}
}

std::string format_probe(const ProbeReport &r, bool json) {
	const bool ext_known = r.external_address && known(*r.external_address);
	const bool double_nat = ext_known && net::is_double_nat(*r.external_address);
	const bool cgnat =
	    ext_known && r.external_address->is_v4() && net::is_cgnat(r.external_address->to_v4());
	if (json) {
		std::string list = "[";
		for (const auto &e : r.entries) {
			JsonObject o;
			o.add_string("protocol", to_string(e.protocol))
			    .add_bool("answered", e.result.has_value());
			if (e.result) {
				o.add_ms("rtt_ms", e.result->rtt);
				if (known(e.result->external_address))
					o.add_string("external_address", e.result->external_address.to_string());
				else
					o.add_null("external_address");
				if (e.result->epoch)
					o.add_int("epoch", *e.result->epoch);
				if (!e.result->detail.empty())
					o.add_string("detail", e.result->detail);
			} else {
				o.add_string("error", e.error ? e.error->message() : "no answer");
			}
			o.add_ms("elapsed_ms", e.elapsed);
			if (list.size() > 1)
				list += ',';
			list += o.str();
		}
		list += ']';
		JsonObject o;
		o.add_string("gateway", r.gateway).add_string("local_address", r.local_address);
		o.add_bool("direct", r.direct).add_raw("protocols", list);
		if (r.chosen)
			o.add_string("chosen", to_string(*r.chosen));
		else
			o.add_null("chosen");
		if (ext_known)
			o.add_string("external_address", r.external_address->to_string());
		else
			o.add_null("external_address");
		// null: no external address known, so no verdict.
		if (ext_known)
			o.add_bool("double_nat", double_nat).add_bool("cgnat", cgnat);
		else
			o.add_null("double_nat").add_null("cgnat");
		return o.str() + "\n";
	}

	std::string out = fmt::format("gateway {}, local address {}\n", r.gateway, r.local_address);
	if (r.direct)
		out += "local address is public: no mapping needed (Direct)\n";
	for (const auto &e : r.entries) {
		out += fmt::format("{:<8} ", to_string(e.protocol));
		if (e.result) {
			out += "answered in " + ms_text(e.result->rtt);
			if (known(e.result->external_address))
				out += ", external address " + e.result->external_address.to_string();
			if (e.result->epoch)
				out += fmt::format(", epoch {}", *e.result->epoch);
			if (!e.result->detail.empty())
				out += ", " + printable(e.result->detail);
		} else {
			out += fmt::format("failed after {}: {}", ms_text(e.elapsed),
			                   printable(e.error ? e.error->message() : "no answer"));
		}
		out += '\n';
	}
	out += "chosen: " + std::string(r.chosen ? to_string(*r.chosen) : "none") + "\n";
	if (ext_known)
		out += nat_verdict(*r.external_address) + "\n";
	else
		out += "external address unknown: no verdict on double NAT\n";
	return out;
}

std::string format_local_address(const std::string &address, bool json) {
	if (json)
		return JsonObject().add_string("local_address", address).str() + "\n";
	return address + "\n";
}

} // namespace plum::plumc
