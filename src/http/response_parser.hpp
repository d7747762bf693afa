// HTTP/1.1 response parsing (RFC 9112 §2-§7), incremental and bounded.
//
//   HTTP/1.1 200 OK\r\n                 status-line = version SP 3DIGIT SP [reason]
//   Content-Type: text/xml\r\n          field-line  = name ":" OWS value OWS
//   Content-Length: 5\r\n               (or Transfer-Encoding: chunked, or
//   \r\n                                 neither: the body runs to EOF)
//   hello
//
//   chunked body:  1*HEX [;ext...] CRLF  data CRLF  ...  0 CRLF  [trailers] CRLF
//
// The parser is pure: the socket feeds it, the fuzzer feeds it, a test feeds
// it. It keeps every input bounded (Limits) and treats a body cut short as
// an error, never as a partial success. Interim 1xx responses are skipped.
// The result does not depend on how the input is split between feed() calls.
#pragma once

#include "core/bytes.hpp"
#include "plum/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plum::http {

struct Limits {
	size_t max_header_bytes = 8192; // status line + header block (and again for trailers)
	size_t max_headers = 64;
	size_t max_body = 65536;
	std::chrono::milliseconds connect_timeout{2000};
	std::chrono::milliseconds total_timeout{5000};
};

struct Response {
	int status = 0;
	std::string reason;
	std::vector<std::pair<std::string, std::string>> headers; // names as received
	std::string body;

	// The first header with this name (case-insensitive).
	std::optional<std::string_view> header(std::string_view name) const;
};

class ResponseParser {
public:
	explicit ResponseParser(Limits limits = {}, bool head_request = false);

	enum class Status { NeedMore, Done, Failed };

	// Consumes what it can. Bytes after a complete response are ignored (one
	// request per connection); after Done or Failed, feed() changes nothing.
	Status feed(ByteSpan data);
	// The peer closed the connection: ends a read-until-close body, or fails
	// with Errc::truncated if the response is incomplete.
	Status finish();

	Status status() const noexcept { return status_; }
	const Response &response() const { return response_; }
	Response take() { return std::move(response_); }
	// Valid when status() == Failed.
	const Error &error() const { return error_; }

private:
	enum class State {
		StatusLine,
		Headers,
		BodyLength,
		ChunkSize,
		ChunkData,
		ChunkDataEnd,
		Trailers,
		BodyUntilClose,
		Done,
		Failed,
	};

	Status run();
	Status fail(Errc e, std::string why);
	// The next line (CR LF or bare LF stripped), or nullopt when more input is
	// needed (or on failure: check state_). budget: bytes the line may use.
	std::optional<std::string_view> next_line(size_t &used, size_t budget);
	bool on_status_line(std::string_view line);
	bool on_header_line(std::string_view line, bool trailer);
	bool on_headers_end();
	bool on_chunk_size(std::string_view line);

	Limits limits_;
	bool head_request_;
	State state_ = State::StatusLine;
	Status status_ = Status::NeedMore;
	Response response_;
	Error error_;

	std::string buf_;         // received, not yet consumed
	size_t pos_ = 0;          // consumed prefix of buf_
	size_t scanned_ = 0;      // bytes after pos_ already known to hold no LF
	size_t head_used_ = 0;    // status line + headers (1xx heads included)
	size_t trailer_used_ = 0; // trailer section
	size_t trailer_count_ = 0;
	size_t framing_used_ = 0; // chunk-size lines
	uint64_t remaining_ = 0;  // of the current chunk or Content-Length body
};

// The whole response from complete input (feed, then finish): for tests and
// the fuzzer.
Result<Response> parse_response(ByteSpan complete_input, const Limits &limits = {});

} // namespace plum::http
