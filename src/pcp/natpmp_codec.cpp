// RFC 6886 NAT-PMP codec. Layouts are sketched in natpmp_codec.hpp.
#include "pcp/natpmp_codec.hpp"

#include <string>

namespace plum::pcp {

namespace {

constexpr size_t kRequestHeader = 2;        // version, op
constexpr size_t kMapRequestSize = 12;      // §3.3
constexpr size_t kShortResponseSize = 8;    // version, op, result, epoch
constexpr size_t kAddressResponseSize = 12; // §3.2
constexpr size_t kMapResponseSize = 16;     // §3.3

bool known_op(uint8_t op) noexcept {
	return op == uint8_t(NatPmpOp::ExternalAddress) || op == uint8_t(NatPmpOp::MapUdp) ||
	       op == uint8_t(NatPmpOp::MapTcp);
}

size_t full_response_size(NatPmpOp op) noexcept {
	return op == NatPmpOp::ExternalAddress ? kAddressResponseSize : kMapResponseSize;
}

Result<void> check_common(ByteSpan packet, size_t min_size) {
	if (packet.size() > kNatPmpMaxPacket)
		return Error(Errc::too_large, "NAT-PMP message of " + std::to_string(packet.size()) +
		                                  " bytes, the limit is 1100");
	if (packet.size() < min_size)
		return Error(Errc::truncated, "NAT-PMP message of " + std::to_string(packet.size()) +
		                                  " bytes, shorter than " + std::to_string(min_size));
	return {};
}

void write_response_header(ByteWriter &w, const NatPmpResponse &r) {
	w.u8(kNatPmpVersion).u8(uint8_t(uint8_t(r.op) | kNatPmpResponseBit));
	w.u16be(uint16_t(r.result)).u32be(r.epoch);
}

} // namespace

Bytes encode_natpmp_request(const NatPmpRequest &request) {
	ByteWriter w(kMapRequestSize);
	w.u8(kNatPmpVersion).u8(uint8_t(request.op));
	if (request.op != NatPmpOp::ExternalAddress)
		w.zeros(2)
		    .u16be(request.internal_port)
		    .u16be(request.external_port)
		    .u32be(request.lifetime);
	return std::move(w).take();
}

Bytes encode_natpmp_response(const NatPmpResponse &response) {
	ByteWriter w(kMapResponseSize);
	write_response_header(w, response);
	if (response.op == NatPmpOp::ExternalAddress)
		w.array(response.external_address.to_bytes());
	else
		w.u16be(response.internal_port).u16be(response.external_port).u32be(response.lifetime);
	return std::move(w).take();
}

Bytes encode_natpmp_short_response(const NatPmpResponse &response) {
	ByteWriter w(kShortResponseSize);
	write_response_header(w, response);
	return std::move(w).take();
}

Result<NatPmpRequest> decode_natpmp_request(ByteSpan packet) {
	if (auto ok = check_common(packet, kRequestHeader); !ok)
		return ok.error();
	ByteReader r(packet);
	uint8_t version = r.u8();
	uint8_t op = r.u8();
	if (version != kNatPmpVersion)
		return Error(Errc::unsupported, "NAT-PMP version " + std::to_string(version));
	if (op & kNatPmpResponseBit)
		return Error(Errc::malformed, "op " + std::to_string(op) + ": a response, not a request");
	if (!known_op(op))
		return Error(Errc::unsupported, "unknown NAT-PMP op " + std::to_string(op));
	NatPmpRequest req;
	req.op = NatPmpOp(op);
	if (req.op == NatPmpOp::ExternalAddress)
		return req;
	if (packet.size() < kMapRequestSize)
		return Error(Errc::truncated,
		             "mapping request of " + std::to_string(packet.size()) + " bytes, expected 12");
	r.skip(2); // reserved
	req.internal_port = r.u16be();
	req.external_port = r.u16be();
	req.lifetime = r.u32be();
	return req;
}

Result<NatPmpResponse> decode_natpmp_response(ByteSpan packet) {
	if (auto ok = check_common(packet, kRequestHeader); !ok)
		return ok.error();
	ByteReader r(packet);
	uint8_t version = r.u8();
	uint8_t op = r.u8();
	if (version != kNatPmpVersion)
		return Error(Errc::unsupported, "NAT-PMP version " + std::to_string(version));
	if (!(op & kNatPmpResponseBit))
		return Error(Errc::malformed, "op " + std::to_string(op) + ": a request, not a response");
	op = uint8_t(op & ~kNatPmpResponseBit);
	if (!known_op(op))
		return Error(Errc::malformed, "unknown NAT-PMP response op " + std::to_string(op + 128));
	if (packet.size() < kShortResponseSize)
		return Error(Errc::truncated, "NAT-PMP response of " + std::to_string(packet.size()) +
		                                  " bytes, shorter than 8");
	NatPmpResponse res;
	res.op = NatPmpOp(op);
	res.result = NatPmpResult(r.u16be());
	res.epoch = r.u32be();
	size_t full = full_response_size(res.op);
	if (packet.size() < full) {
		// §3.5 shows error replies with the fields after the epoch left out,
		// and servers send that short form for every op.
		if (res.result != NatPmpResult::Success)
			return res;
		return Error(Errc::truncated, "NAT-PMP response of " + std::to_string(packet.size()) +
		                                  " bytes, expected " + std::to_string(full));
	}
	if (res.op == NatPmpOp::ExternalAddress) {
		res.external_address = asio::ip::address_v4(r.array<4>());
	} else {
		res.internal_port = r.u16be();
		res.external_port = r.u16be();
		res.lifetime = r.u32be();
	}
	return res;
}

} // namespace plum::pcp
