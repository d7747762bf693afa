// NAT-PMP messages, RFC 6886: pure functions between bytes and structs.
//
// §3.2 external address request (2 bytes):  version=0 | op=0
// §3.2 external address response (12):      version=0 | op=128 | result16 |
//                                           epoch32 | external IPv4 (32)
// §3.3 mapping request (12):   version=0 | op=1 UDP, 2 TCP | reserved16 |
//                              internal port | suggested external port | lifetime32
// §3.3 mapping response (16):  version=0 | op=128+op | result16 | epoch32 |
//                              internal port | mapped external port | lifetime32
// §3.5 a response with result != 0 may stop after the epoch (8 bytes): many
// servers (miniupnpd among them) send that short form for every op.
// Trailing bytes after the fields are ignored (the RFC defines none).
#pragma once

#include "core/bytes.hpp"
#include "pcp/pcp_errors.hpp"
#include "plum/result.hpp"

#include <asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>

namespace plum::pcp {

inline constexpr uint8_t kNatPmpVersion = 0;
inline constexpr uint16_t kDefaultServerPort = 5351;
inline constexpr uint16_t kDefaultClientPort = 5350;
inline constexpr uint8_t kNatPmpResponseBit = 128;
inline constexpr size_t kNatPmpMaxPacket = 1100;

enum class NatPmpOp : uint8_t { ExternalAddress = 0, MapUdp = 1, MapTcp = 2 };

// For ExternalAddress the ports and lifetime are not on the wire (zero).
struct NatPmpRequest {
	NatPmpOp op = NatPmpOp::ExternalAddress;
	uint16_t internal_port = 0;
	uint16_t external_port = 0;
	uint32_t lifetime = 0;
	friend bool operator==(const NatPmpRequest &, const NatPmpRequest &) = default;
};

// `op` is the request op (the wire carries op + 128). Fields the short error
// form leaves out are zero.
struct NatPmpResponse {
	NatPmpOp op = NatPmpOp::ExternalAddress;
	NatPmpResult result = NatPmpResult::Success;
	uint32_t epoch = 0;
	asio::ip::address_v4 external_address;
	uint16_t internal_port = 0;
	uint16_t external_port = 0;
	uint32_t lifetime = 0;
	friend bool operator==(const NatPmpResponse &, const NatPmpResponse &) = default;
};

Bytes encode_natpmp_request(const NatPmpRequest &request);
// The full form (12 or 16 bytes), whatever the result.
Bytes encode_natpmp_response(const NatPmpResponse &response);
// The 8-byte form of an error reply (version, op, result, epoch).
Bytes encode_natpmp_short_response(const NatPmpResponse &response);

// Errors (plum::Errc): truncated, too_large (> 1100 bytes), malformed (a
// response where a request was expected or the reverse, an unknown response
// op), unsupported (version != 0, an unknown request op).
Result<NatPmpRequest> decode_natpmp_request(ByteSpan packet);
Result<NatPmpResponse> decode_natpmp_response(ByteSpan packet);

} // namespace plum::pcp
