// Fuzz target for the PCP codec (RFC 6887): whatever decodes must encode
// and decode again to the same struct.
#include "pcp/pcp_codec.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	using namespace plum::pcp;
	plum::ByteSpan in(reinterpret_cast<const std::byte *>(data), size);
	(void)classify(in);

	if (auto res = decode_response(in); res.ok()) {
		auto again = decode_response(encode_response(*res));
		if (!again.ok() || !(*again == *res))
			__builtin_trap();
	}
	if (auto req = decode_request(in); req.ok()) {
		plum::Bytes wire = encode_request(*req);
		// A decoded request is re-encoded without its reserved bits and
		// padding, so never longer than the input.
		if (wire.size() > size)
			__builtin_trap();
		auto again = decode_request(wire);
		if (!again.ok() || !(*again == *req))
			__builtin_trap();
	}
	return 0;
}
