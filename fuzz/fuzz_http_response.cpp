// Fuzz target: the HTTP response parser. Invariants:
// - the one-shot parse_response and the incremental ResponseParser fed in
//   pieces (size from the first byte) agree on the outcome, field by field;
// - a success respects the limits and is a final (non-1xx) response.
#include "http/response_parser.hpp"

#include <cstddef>
#include <cstdint>

using namespace plum;
using namespace plum::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	const ByteSpan input(reinterpret_cast<const std::byte *>(data), size);
	// Small limits so that the fuzzer reaches every bound quickly.
	Limits limits;
	limits.max_header_bytes = 1024;
	limits.max_headers = 16;
	limits.max_body = 4096;

	auto whole = parse_response(input, limits);

	const size_t step = size > 0 ? size_t(data[0] % 61) + 1 : 1;
	ResponseParser parser(limits);
	auto status = ResponseParser::Status::NeedMore;
	for (size_t i = 0; i < size && status == ResponseParser::Status::NeedMore; i += step)
		status = parser.feed(input.subspan(i, std::min(step, size - i)));
	if (status == ResponseParser::Status::NeedMore)
		status = parser.finish();

	if (whole.ok() != (status == ResponseParser::Status::Done))
		__builtin_trap();
	if (whole.ok()) {
		const Response &a = *whole;
		const Response &b = parser.response();
		if (a.status != b.status || a.reason != b.reason || a.headers != b.headers ||
		    a.body != b.body)
			__builtin_trap();
		if (a.status < 200 || a.status > 599 || a.body.size() > limits.max_body ||
		    a.headers.size() > limits.max_headers)
			__builtin_trap();
	} else if (whole.error().code() != parser.error().code()) {
		__builtin_trap();
	}
	return 0;
}
