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

std::string string_array(const std::vector<std::string> &items) {
	std::string out = "[";
	for (const auto &i : items) {
		if (out.size() > 1)
			out += ',';
		out += json_string(i);
	}
	return out + "]";
}

std::string upnp_device_json(const engine::UpnpDevice &d) {
	return JsonObject()
	    .add_string("friendly_name", d.friendly_name)
	    .add_string("manufacturer", d.manufacturer)
	    .add_string("model_name", d.model_name)
	    .add_string("model_number", d.model_number)
	    .add_string("device_type", d.device_type)
	    .add_int("igd_version", d.igd_version)
	    .add_string("service_type", d.service_type)
	    .add_string("control_url", d.control_url)
	    .add_raw("services", string_array(d.services))
	    .str();
}

std::string protocol_stats_json(const ProtocolStats &p) {
	JsonObject results;
	for (const auto &[name, n] : p.results)
		results.add_int(name, static_cast<int64_t>(n));
	return JsonObject()
	    .add_int("requests", static_cast<int64_t>(p.requests))
	    .add_int("retransmissions", static_cast<int64_t>(p.retransmissions))
	    .add_int("timeouts", static_cast<int64_t>(p.timeouts))
	    .add_int("renewals", static_cast<int64_t>(p.renewals))
	    .add_int("recreations", static_cast<int64_t>(p.recreations))
	    .add_raw("results", results.str())
	    .str();
}

std::string protocol_stats_text(std::string_view name, const ProtocolStats &p) {
	std::string line = fmt::format(
	    "{:<8} requests {}, retransmissions {}, timeouts {}, renewals {}, re-creations {}", name,
	    p.requests, p.retransmissions, p.timeouts, p.renewals, p.recreations);
	std::string results;
	for (const auto &[result, n] : p.results)
		results += fmt::format("{}{} {}", results.empty() ? "" : ", ", printable(result), n);
	if (!results.empty())
		line += "; " + results;
	return line + "\n";
}

} // namespace

std::string nat_verdict_name(const ProbeReport &r) {
	if (r.direct)
		return "direct";
	if (!r.external_address || !known(*r.external_address))
		return "unknown";
	if (r.external_address->is_v4() && net::is_cgnat(r.external_address->to_v4()))
		return "cgnat";
	if (net::is_double_nat(*r.external_address))
		return "double_nat";
	return "public";
}

std::string stats_json(const Stats &s) {
	std::string mappings = "[";
	for (const auto &m : s.mappings) {
		JsonObject o;
		o.add_int("id", m.id)
		    .add_string("state", to_string(m.state))
		    .add_string("protocol", to_string(m.protocol))
		    .add_int("internal_port", m.internal_port)
		    .add_string("external_host", m.external_host)
		    .add_int("external_port", m.external_port)
		    .add_string("mapping_protocol", to_string(m.mapping_protocol))
		    .add_int("age_ms", m.age.count())
		    .add_int("renewals", static_cast<int64_t>(m.renewals))
		    .add_int("recreations", static_cast<int64_t>(m.recreations))
		    .add_int("failures", static_cast<int64_t>(m.failures));
		if (m.last_error.empty())
			o.add_null("last_error");
		else
			o.add_string("last_error", m.last_error);
		if (mappings.size() > 1)
			mappings += ',';
		mappings += o.str();
	}
	mappings += ']';
	JsonObject protocols;
	protocols.add_raw(to_string(MappingProtocol::Pcp), protocol_stats_json(s.pcp))
	    .add_raw(to_string(MappingProtocol::NatPmp), protocol_stats_json(s.natpmp))
	    .add_raw(to_string(MappingProtocol::Upnp), protocol_stats_json(s.upnp));
	JsonObject o;
	o.add_string("active", to_string(s.active))
	    .add_string("gateway", s.gateway)
	    .add_string("local_address", s.local_address);
	if (s.external_address.empty())
		o.add_null("external_address");
	else
		o.add_string("external_address", s.external_address);
	o.add_bool("double_nat", s.double_nat)
	    .add_raw("protocols", protocols.str())
	    .add_raw("mappings", mappings);
	return o.str();
}

std::string stats_text(const Stats &s) {
	std::string out =
	    fmt::format("gateway {}, local address {}, using {}, external address {}{}\n",
	                s.gateway.empty() ? "unknown" : s.gateway,
	                s.local_address.empty() ? "unknown" : s.local_address, to_string(s.active),
	                s.external_address.empty() ? "unknown" : s.external_address,
	                s.double_nat ? " (double NAT)" : "");
	out += protocol_stats_text(to_string(MappingProtocol::Pcp), s.pcp);
	out += protocol_stats_text(to_string(MappingProtocol::NatPmp), s.natpmp);
	out += protocol_stats_text(to_string(MappingProtocol::Upnp), s.upnp);
	for (const auto &m : s.mappings) {
		out += fmt::format("mapping {}: {} {}", m.id, to_string(m.state),
		                   mapping_text(m.protocol, m.internal_port, m.external_host,
		                                m.external_port, m.mapping_protocol));
		out += fmt::format(", age {:.1f} s, renewals {}, re-creations {}, failures {}",
		                   static_cast<double>(m.age.count()) / 1000.0, m.renewals, m.recreations,
		                   m.failures);
		if (!m.last_error.empty())
			out += ", last error: " + printable(m.last_error);
		out += '\n';
	}
	return out;
}

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
			if (e.result && e.result->upnp)
				o.add_raw("upnp", upnp_device_json(*e.result->upnp));
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
		o.add_string("verdict", nat_verdict_name(r));
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
