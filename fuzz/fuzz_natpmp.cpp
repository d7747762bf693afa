// Fuzz target for the NAT-PMP codec (RFC 6886): whatever decodes must
// encode and decode again to the same struct, in the full and (for error
// replies) the short form.
#include "pcp/natpmp_codec.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	using namespace plum::pcp;
	plum::ByteSpan in(reinterpret_cast<const std::byte *>(data), size);

	if (auto res = decode_natpmp_response(in); res.ok()) {
		auto again = decode_natpmp_response(encode_natpmp_response(*res));
		if (!again.ok() || !(*again == *res))
			__builtin_trap();
		if (res->result != NatPmpResult::Success) {
			auto brief = decode_natpmp_response(encode_natpmp_short_response(*res));
			if (!brief.ok() || brief->result != res->result || brief->epoch != res->epoch ||
			    brief->op != res->op)
				__builtin_trap();
		}
	}
	if (auto req = decode_natpmp_request(in); req.ok()) {
		auto again = decode_natpmp_request(encode_natpmp_request(*req));
		if (!again.ok() || !(*again == *req))
			__builtin_trap();
	}
	return 0;
}
