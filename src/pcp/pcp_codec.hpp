// PCP messages, RFC 6887: pure functions between bytes and structs.
//
// §7.1 request header (24 bytes)        §7.2 response header (24 bytes)
//   version=2 | R=0,opcode | reserved16    version=2 | R=1,opcode | rsv8 | result
//   requested lifetime (32)                lifetime (32)
//   client IP address (128)                epoch time (32)
//                                          reserved (96)
// then the opcode-specific data, then options until the end of the datagram.
//
// §11.1 MAP data (36 bytes): nonce (96) | protocol | reserved24 |
//   internal port | suggested/assigned external port | external IP (128)
// §12.1 PEER data (56 bytes): the MAP fields, then remote peer port |
//   reserved16 | remote peer IP (128)
// §14.1 ANNOUNCE: no opcode data.
// §7.3 option: code | reserved8 | length16 | data, padded to 4 bytes.
//
// Every address is 128 bits on the wire; IPv4 travels IPv4-mapped
// (::ffff:a.b.c.d). A datagram is at most 1100 bytes and a multiple of 4.
#pragma once

#include "core/bytes.hpp"
#include "pcp/pcp_errors.hpp"
#include "plum/result.hpp"

#include <asio/ip/address.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace plum::pcp {

inline constexpr uint8_t kPcpVersion = 2;
inline constexpr size_t kPcpMaxPacket = 1100;
inline constexpr size_t kPcpHeaderSize = 24;
inline constexpr size_t kMapDataSize = 36;
inline constexpr size_t kPeerDataSize = 56;
inline constexpr size_t kOptionHeaderSize = 4;

enum class Opcode : uint8_t { Announce = 0, Map = 1, Peer = 2 };

// §7.3, §13: the option codes this codec knows the length of.
inline constexpr uint8_t kOptionThirdParty = 1;    // 16 bytes: internal IP address
inline constexpr uint8_t kOptionPreferFailure = 2; // no data
inline constexpr uint8_t kOptionFilter = 3;        // 20 bytes: rsv8 prefix8 port16 IP128

// Unknown options are kept as they came (data without its padding).
struct Option {
	uint8_t code = 0;
	Bytes data;
	friend bool operator==(const Option &, const Option &) = default;
};

struct MapData {
	std::array<uint8_t, 12> nonce{};
	uint8_t protocol = 0; // IANA protocol number: 6 TCP, 17 UDP, 0 all
	uint16_t internal_port = 0;
	uint16_t external_port = 0; // suggested (request) or assigned (response)
	asio::ip::address_v6 external_address;
	friend bool operator==(const MapData &, const MapData &) = default;
};

struct PeerData {
	MapData map;
	uint16_t remote_port = 0;
	asio::ip::address_v6 remote_address;
	friend bool operator==(const PeerData &, const PeerData &) = default;
};

// `map` is used (and required) for Opcode::Map, `peer` for Opcode::Peer;
// ANNOUNCE carries neither.
struct Request {
	Opcode opcode = Opcode::Map;
	uint32_t lifetime = 0;
	asio::ip::address_v6 client_address;
	std::optional<MapData> map;
	std::optional<PeerData> peer;
	std::vector<Option> options;
	friend bool operator==(const Request &, const Request &) = default;
};

// An error response may lack the opcode data (§7.2: it "might be absent or
// contain garbage" when the result is not SUCCESS): map/peer are then empty.
// A response of another version is decoded as a header only.
struct Response {
	uint8_t version = kPcpVersion;
	Opcode opcode = Opcode::Map;
	PcpResult result = PcpResult::Success;
	uint32_t lifetime = 0;
	uint32_t epoch = 0;
	std::optional<MapData> map;
	std::optional<PeerData> peer;
	std::vector<Option> options;
	friend bool operator==(const Response &, const Response &) = default;
};

// Encoding writes the opcode data the opcode calls for (zeros if the
// optional is empty in a request; nothing if empty in a response) and pads
// every option to 4 bytes.
Bytes encode_request(const Request &request);
Bytes encode_response(const Response &response);

// Errors (plum::Errc, with a context message):
//   truncated   shorter than the header, the opcode data or an option says
//   too_large   over 1100 bytes
//   malformed   wrong R bit, not a multiple of 4, a known option of the
//               wrong length, an option running past the end
//   unsupported another version (requests; a version-0 response is
//               NAT-PMP), an opcode other than ANNOUNCE/MAP/PEER
Result<Request> decode_request(ByteSpan packet);
Result<Response> decode_response(ByteSpan packet);

// ::ffff:a.b.c.d
asio::ip::address_v6 to_v4_mapped(const asio::ip::address_v4 &v4);

// What the first byte says. Version 0 is NAT-PMP: a NAT-PMP-only server
// answers a PCP request with version 0 / result 1 (RFC 6887 §9).
enum class WireKind { Pcp, NatPmp, Unknown };
WireKind classify(ByteSpan packet) noexcept;

// Option helpers (§13.1 THIRD_PARTY, §13.2 PREFER_FAILURE, §13.3 FILTER).
Option make_third_party_option(const asio::ip::address_v6 &internal_address);
Option make_prefer_failure_option();
Option make_filter_option(uint8_t prefix_length, uint16_t remote_port,
                          const asio::ip::address_v6 &remote_prefix);
// The first option with this code, or nullptr.
const Option *find_option(const std::vector<Option> &options, uint8_t code) noexcept;

} // namespace plum::pcp
