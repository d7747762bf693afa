// RFC 6887 PCP codec. Layouts are sketched in pcp_codec.hpp.
#include "pcp/pcp_codec.hpp"

#include <algorithm>
#include <string>

namespace plum::pcp {

namespace {

constexpr uint8_t kResponseBit = 0x80;
constexpr uint8_t kOpcodeMask = 0x7f;

size_t padded(size_t n) noexcept {
	return (n + 3) & ~size_t{3};
}

bool known_opcode(uint8_t op) noexcept {
	return op == uint8_t(Opcode::Announce) || op == uint8_t(Opcode::Map) ||
	       op == uint8_t(Opcode::Peer);
}

size_t opcode_data_size(Opcode op) noexcept {
	switch (op) {
	case Opcode::Map: return kMapDataSize;
	case Opcode::Peer: return kPeerDataSize;
	case Opcode::Announce: return 0;
	}
	return 0;
}

std::string op_name(uint8_t op) {
	switch (op) {
	case 0: return "ANNOUNCE";
	case 1: return "MAP";
	case 2: return "PEER";
	default: return "opcode " + std::to_string(op);
	}
}

void write_address(ByteWriter &w, const asio::ip::address_v6 &a) {
	w.array(a.to_bytes());
}

asio::ip::address_v6 read_address(ByteReader &r) {
	return asio::ip::address_v6(r.array<16>());
}

void write_map(ByteWriter &w, const MapData &m) {
	w.array(m.nonce).u8(m.protocol).zeros(3).u16be(m.internal_port).u16be(m.external_port);
	write_address(w, m.external_address);
}

void write_peer(ByteWriter &w, const PeerData &p) {
	write_map(w, p.map);
	w.u16be(p.remote_port).zeros(2);
	write_address(w, p.remote_address);
}

// The caller has checked that enough bytes remain.
MapData read_map(ByteReader &r) {
	MapData m;
	m.nonce = r.array<12>();
	m.protocol = r.u8();
	r.skip(3); // reserved: ignored on receipt (§11.1)
	m.internal_port = r.u16be();
	m.external_port = r.u16be();
	m.external_address = read_address(r);
	return m;
}

PeerData read_peer(ByteReader &r) {
	PeerData p;
	p.map = read_map(r);
	p.remote_port = r.u16be();
	r.skip(2);
	p.remote_address = read_address(r);
	return p;
}

void write_options(ByteWriter &w, const std::vector<Option> &options) {
	for (const auto &o : options) {
		// A longer payload cannot be expressed; what is sent is what the
		// length field says.
		size_t len = std::min<size_t>(o.data.size(), 0xffff);
		w.u8(o.code).u8(0).u16be(uint16_t(len));
		w.bytes(ByteSpan(o.data).first(len));
		w.zeros(padded(len) - len);
	}
}

// §13: the options whose length the RFC fixes; a different length is a
// MALFORMED_OPTION.
std::optional<size_t> fixed_option_length(uint8_t code) noexcept {
	switch (code) {
	case kOptionThirdParty: return 16;
	case kOptionPreferFailure: return 0;
	case kOptionFilter: return 20;
	default: return std::nullopt;
	}
}

// §7.3: options follow the opcode data up to the end of the datagram. Each
// header is read even when the code is unknown, and the option skipped by
// its length rounded up to 4 (the padding is not part of the length).
Result<std::vector<Option>> read_options(ByteReader &r) {
	std::vector<Option> options;
	while (!r.at_end()) {
		size_t at = r.position();
		if (r.remaining() < kOptionHeaderSize)
			return Error(Errc::malformed,
			             "option header at byte " + std::to_string(at) + " runs past the end");
		Option o;
		o.code = r.u8();
		r.skip(1); // reserved
		size_t len = r.u16be();
		if (padded(len) > r.remaining())
			return Error(Errc::malformed, "option " + std::to_string(o.code) + " at byte " +
			                                  std::to_string(at) + " has length " +
			                                  std::to_string(len) + ", past the end");
		if (auto fixed = fixed_option_length(o.code); fixed && *fixed != len)
			return Error(Errc::malformed, "option " + std::to_string(o.code) + " has length " +
			                                  std::to_string(len) + ", expected " +
			                                  std::to_string(*fixed));
		auto data = r.span(len);
		o.data.assign(data.begin(), data.end());
		r.skip(padded(len) - len);
		options.push_back(std::move(o));
	}
	return options;
}

// Checks shared by requests and responses, in the order §8.3 gives them.
Result<void> check_size(ByteSpan packet) {
	if (packet.size() > kPcpMaxPacket)
		return Error(Errc::too_large, "PCP message of " + std::to_string(packet.size()) +
		                                  " bytes, the limit is 1100");
	if (packet.size() < kPcpHeaderSize)
		return Error(Errc::truncated, "PCP message of " + std::to_string(packet.size()) +
		                                  " bytes, shorter than the 24-byte header");
	if (packet.size() % 4 != 0)
		return Error(Errc::malformed, "PCP message of " + std::to_string(packet.size()) +
		                                  " bytes, not a multiple of 4");
	return {};
}

} // namespace

Bytes encode_request(const Request &request) {
	ByteWriter w(kPcpHeaderSize + kPeerDataSize);
	w.u8(kPcpVersion).u8(uint8_t(request.opcode) & kOpcodeMask).zeros(2).u32be(request.lifetime);
	write_address(w, request.client_address);
	switch (request.opcode) {
	case Opcode::Map: write_map(w, request.map.value_or(MapData{})); break;
	case Opcode::Peer: write_peer(w, request.peer.value_or(PeerData{})); break;
	case Opcode::Announce: break;
	}
	write_options(w, request.options);
	return std::move(w).take();
}

Bytes encode_response(const Response &response) {
	ByteWriter w(kPcpHeaderSize + kPeerDataSize);
	w.u8(response.version).u8(uint8_t(response.opcode) | kResponseBit).u8(0);
	w.u8(uint8_t(response.result)).u32be(response.lifetime).u32be(response.epoch).zeros(12);
	if (response.opcode == Opcode::Map && response.map)
		write_map(w, *response.map);
	else if (response.opcode == Opcode::Peer && response.peer)
		write_peer(w, *response.peer);
	write_options(w, response.options);
	return std::move(w).take();
}

Result<Request> decode_request(ByteSpan packet) {
	if (auto ok = check_size(packet); !ok)
		return ok.error();
	ByteReader r(packet);
	uint8_t version = r.u8();
	uint8_t op = r.u8();
	if (version != kPcpVersion)
		return Error(Errc::unsupported, "PCP version " + std::to_string(version));
	if (op & kResponseBit)
		return Error(Errc::malformed, "R bit set: a response, not a request");
	if (!known_opcode(op))
		return Error(Errc::unsupported, "unknown " + op_name(op));
	Request req;
	req.opcode = Opcode(op);
	r.skip(2); // reserved
	req.lifetime = r.u32be();
	req.client_address = read_address(r);
	size_t need = opcode_data_size(req.opcode);
	if (r.remaining() < need)
		return Error(Errc::truncated, op_name(op) + " request without its " + std::to_string(need) +
		                                  " bytes of opcode data");
	if (req.opcode == Opcode::Map)
		req.map = read_map(r);
	else if (req.opcode == Opcode::Peer)
		req.peer = read_peer(r);
	auto options = read_options(r);
	if (!options)
		return options.error();
	req.options = std::move(*options);
	return req;
}

Result<Response> decode_response(ByteSpan packet) {
	// A NAT-PMP-only server answers with a short version-0 reply: name it
	// before the PCP size checks call it truncated.
	if (!packet.empty() && packet.size() <= kPcpMaxPacket && classify(packet) == WireKind::NatPmp)
		return Error(Errc::unsupported, "a NAT-PMP (version 0) reply");
	if (auto ok = check_size(packet); !ok)
		return ok.error();
	ByteReader r(packet);
	Response res;
	res.version = r.u8();
	uint8_t op = r.u8();
	r.skip(1); // reserved
	res.result = PcpResult(r.u8());
	res.lifetime = r.u32be();
	res.epoch = r.u32be();
	r.skip(12); // reserved
	if (!(op & kResponseBit))
		return Error(Errc::malformed, "R bit clear: a request, not a response");
	op &= kOpcodeMask;
	res.opcode = Opcode(op);
	const bool error = res.result != PcpResult::Success;
	// §9: a server of another version answers UNSUPP_VERSION with the version
	// it speaks; the rest of its message is not ours to parse.
	if (res.version != kPcpVersion) {
		if (res.result == PcpResult::UnsuppVersion)
			return res;
		return Error(Errc::unsupported, "PCP version " + std::to_string(res.version));
	}
	if (!known_opcode(op)) {
		// An error about an opcode we do not know (UNSUPP_OPCODE echoes it):
		// the header says all there is to say.
		if (error)
			return res;
		return Error(Errc::unsupported, "unknown " + op_name(op));
	}
	size_t need = opcode_data_size(res.opcode);
	if (r.remaining() < need) {
		// §7.2: with a result other than SUCCESS the opcode data may be
		// absent; a success must carry it.
		if (error)
			return res;
		return Error(Errc::truncated, op_name(op) + " response without its " +
		                                  std::to_string(need) + " bytes of opcode data");
	}
	if (res.opcode == Opcode::Map)
		res.map = read_map(r);
	else if (res.opcode == Opcode::Peer)
		res.peer = read_peer(r);
	auto options = read_options(r);
	if (options)
		res.options = std::move(*options);
	else if (!error) // an error response's trailing bytes may be garbage (§7.2)
		return options.error();
	return res;
}

asio::ip::address_v6 to_v4_mapped(const asio::ip::address_v4 &v4) {
	return asio::ip::make_address_v6(asio::ip::v4_mapped, v4);
}

WireKind classify(ByteSpan packet) noexcept {
	if (packet.size() < 2)
		return WireKind::Unknown;
	switch (std::to_integer<uint8_t>(packet[0])) {
	case 0: return WireKind::NatPmp;
	case 1: // the draft version some early servers still speak
	case kPcpVersion: return WireKind::Pcp;
	default: return WireKind::Unknown;
	}
}

Option make_third_party_option(const asio::ip::address_v6 &internal_address) {
	ByteWriter w(16);
	write_address(w, internal_address);
	return Option{kOptionThirdParty, std::move(w).take()};
}

Option make_prefer_failure_option() {
	return Option{kOptionPreferFailure, {}};
}

Option make_filter_option(uint8_t prefix_length, uint16_t remote_port,
                          const asio::ip::address_v6 &remote_prefix) {
	ByteWriter w(20);
	w.u8(0).u8(prefix_length).u16be(remote_port);
	write_address(w, remote_prefix);
	return Option{kOptionFilter, std::move(w).take()};
}

const Option *find_option(const std::vector<Option> &options, uint8_t code) noexcept {
	for (const auto &o : options)
		if (o.code == code)
			return &o;
	return nullptr;
}

} // namespace plum::pcp
