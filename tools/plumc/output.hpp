// What plumc prints: one line per result for people, or one JSON object
// (per line with --hold) for scripts. Pure string builders, so that the
// formats are tested without a network. Every line ends with '\n'.
#pragma once

#include "engine/protocol.hpp"
#include "plum/plum.hpp"

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plum::plumc {

// Text from the router (UPnP details, error contexts) made safe for a
// terminal: control characters and invalid UTF-8 become '?'.
std::string printable(std::string_view s);
// A JSON string literal, quotes included; invalid UTF-8 becomes U+FFFD.
std::string json_string(std::string_view s);

// Builds one flat JSON object, keys in insertion order.
class JsonObject {
public:
	JsonObject &add_string(std::string_view key, std::string_view value);
	JsonObject &add_int(std::string_view key, int64_t value);
	JsonObject &add_bool(std::string_view key, bool value);
	JsonObject &add_ms(std::string_view key, std::chrono::microseconds value); // 3 decimals
	JsonObject &add_null(std::string_view key);
	JsonObject &add_raw(std::string_view key, std::string_view json);
	std::string str() const { return "{" + body_ + "}"; }

private:
	JsonObject &key(std::string_view key);
	std::string body_;
};

struct MapReport {
	IpProtocol protocol = IpProtocol::Tcp;
	uint16_t internal_port = 0;
	std::string external_host;
	uint16_t external_port = 0;
	MappingProtocol via = MappingProtocol::Unknown;
	std::optional<uint32_t> lifetime; // seconds; 0: permanent; empty: none (Direct)
};
// "TCP 8080 -> 1.2.3.4:8080 via PCP (lifetime 7200 s)"
std::string format_map(const MapReport &report, bool json);

struct UnmapReport {
	IpProtocol protocol = IpProtocol::Tcp;
	uint16_t internal_port = 0;
	uint16_t external_port = 0;
	MappingProtocol via = MappingProtocol::Unknown;
};
// "TCP 8080 unmapped via PCP"
std::string format_unmap(const UnmapReport &report, bool json);

// One line of `map --hold`: "SUCCESS TCP 8080 -> 1.2.3.4:8080 via PCP".
std::string format_state(State state, const Mapping &mapping, bool json);

struct ProbeEntry {
	MappingProtocol protocol = MappingProtocol::Unknown;
	std::optional<engine::ProbeResult> result; // answered
	std::optional<Error> error;                // or why not
	std::chrono::microseconds elapsed{0};      // until the answer or the error
};

struct ProbeReport {
	std::string gateway;
	std::string local_address;
	bool direct = false; // the local address is public: nothing to map
	std::vector<ProbeEntry> entries;
	std::optional<MappingProtocol> chosen;
	std::optional<asio::ip::address> external_address;
};
// The verdict on the path to the internet, from the external address:
// "direct" (the local address is public), "public", "double_nat" (a private
// external address: another router's NAT), "cgnat" (100.64.0.0/10: the
// ISP's NAT), "unknown" (no external address known).
std::string nat_verdict_name(const ProbeReport &report);
std::string format_probe(const ProbeReport &report, bool json);

std::string format_local_address(const std::string &address, bool json);

// Client::stats() as one JSON object (no newline):
//   {"active":"PCP","gateway":"...","local_address":"...","external_address":
//    "..."|null,"double_nat":false,"protocols":{"PCP":{"requests":N,
//    "retransmissions":N,"timeouts":N,"renewals":N,"recreations":N,
//    "results":{"SUCCESS":N,...}},"NAT-PMP":{...},"UPnP":{...}},
//    "mappings":[{"id":0,"state":"SUCCESS","protocol":"TCP","internal_port":N,
//    "external_host":"...","external_port":N,"mapping_protocol":"PCP",
//    "age_ms":N,"renewals":N,"recreations":N,"failures":N,"last_error":"..."|null}]}
std::string stats_json(const Stats &stats);
// The same for people: a few lines, each ending with '\n'.
std::string stats_text(const Stats &stats);

} // namespace plum::plumc
