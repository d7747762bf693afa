// RFC 9112 (HTTP/1.1 message syntax) §4 status line, §5 field lines, §6.3
// message body length, §7.1 chunked transfer coding; RFC 9110 §15.2 (1xx).
//
// Text protocol: lines are located with std::string_view::find and cut with
// substr, which cannot read past the buffer; the byte cursor of core/bytes.hpp
// is for binary layouts.
#include "core/text.hpp"
#include "http/response_parser.hpp"

#include <algorithm>
#include <limits>

namespace plum::http {

namespace {

using plum::iequals;
constexpr auto lower = ascii_lower;

bool is_digit(char c) noexcept {
	return c >= '0' && c <= '9';
}

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) noexcept {
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Field values and reason phrases: VCHAR, obs-text, SP and HTAB. A CR, NUL
// or other control byte inside a line is how response splitting starts.
bool valid_text(std::string_view s) noexcept {
	return std::all_of(s.begin(), s.end(), [](char c) {
		const auto u = static_cast<unsigned char>(c);
		return u == '\t' || (u >= 0x20 && u != 0x7f);
	});
}

std::string_view trim_ows(std::string_view s) noexcept {
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
		s.remove_suffix(1);
	return s;
}

// Calls f on each trimmed element of a comma-separated list (RFC 9110 §5.6.1).
template <class F> bool for_each_element(std::string_view list, F f) {
	while (true) {
		const auto comma = list.find(',');
		if (!f(trim_ows(list.substr(0, comma))))
			return false;
		if (comma == std::string_view::npos)
			return true;
		list.remove_prefix(comma + 1);
	}
}

enum class NumberError { none, malformed, overflow };

NumberError parse_decimal(std::string_view s, uint64_t &out) noexcept {
	if (s.empty())
		return NumberError::malformed;
	uint64_t v = 0;
	for (char c : s) {
		if (!is_digit(c))
			return NumberError::malformed;
		const auto d = uint64_t(c - '0');
		if (v > (std::numeric_limits<uint64_t>::max() - d) / 10)
			return NumberError::overflow;
		v = v * 10 + d;
	}
	out = v;
	return NumberError::none;
}

int hex_value(char c) noexcept {
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

} // namespace

std::optional<std::string_view> Response::header(std::string_view name) const {
	for (const auto &[n, v] : headers)
		if (iequals(n, name))
			return std::string_view(v);
	return std::nullopt;
}

ResponseParser::ResponseParser(Limits limits, bool head_request)
    : limits_(limits), head_request_(head_request) {}

ResponseParser::Status ResponseParser::fail(Errc e, std::string why) {
	state_ = State::Failed;
	status_ = Status::Failed;
	error_ = Error(e, std::move(why));
	return status_;
}

ResponseParser::Status ResponseParser::feed(ByteSpan data) {
	if (status_ != Status::NeedMore)
		return status_;
	if (pos_ > 0) {
		buf_.erase(0, pos_);
		pos_ = 0;
	}
	buf_.append(as_chars(data));
	return run();
}

ResponseParser::Status ResponseParser::finish() {
	if (status_ != Status::NeedMore)
		return status_;
	if (state_ == State::BodyUntilClose) {
		state_ = State::Done;
		return status_ = Status::Done;
	}
	const bool in_head = state_ == State::StatusLine || state_ == State::Headers;
	return fail(Errc::truncated, in_head ? "connection closed before the end of the headers"
	                                     : "connection closed before the end of the body");
}

std::optional<std::string_view> ResponseParser::next_line(size_t &used, size_t budget) {
	const std::string_view avail = std::string_view(buf_).substr(pos_);
	const auto lf = avail.find('\n', scanned_);
	if (lf == std::string_view::npos) {
		scanned_ = avail.size();
		// The line is at least avail.size() + 1 bytes long (its LF is still to
		// come): refuse it now rather than buffer a slowloris line forever.
		if (used + avail.size() >= budget)
			fail(Errc::too_large, "header or chunk line over the limit");
		return std::nullopt;
	}
	const size_t line_bytes = lf + 1;
	if (used + line_bytes > budget) {
		fail(Errc::too_large, "header or chunk line over the limit");
		return std::nullopt;
	}
	used += line_bytes;
	pos_ += line_bytes;
	scanned_ = 0;
	std::string_view line = avail.substr(0, lf);
	// RFC 9112 §2.2: a recipient may accept a bare LF as the line terminator.
	if (!line.empty() && line.back() == '\r')
		line.remove_suffix(1);
	return line;
}

bool ResponseParser::on_status_line(std::string_view line) {
	// "HTTP/1.x" SP 3DIGIT [SP reason]; some embedded servers omit the SP
	// before an empty reason.
	if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ') {
		fail(Errc::malformed, "bad status line");
		return false;
	}
	const std::string_view code = line.substr(9, 3);
	if (!std::all_of(code.begin(), code.end(), is_digit)) {
		fail(Errc::malformed, "bad status code");
		return false;
	}
	const int status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
	if (status < 100 || status > 599) {
		fail(Errc::malformed, "status code out of range");
		return false;
	}
	std::string_view reason = line.substr(12);
	if (!reason.empty()) {
		if (reason.front() != ' ') {
			fail(Errc::malformed, "bad status line");
			return false;
		}
		reason.remove_prefix(1);
	}
	if (!valid_text(reason)) {
		fail(Errc::malformed, "control character in reason phrase");
		return false;
	}
	response_.status = status;
	response_.reason = std::string(reason);
	return true;
}

bool ResponseParser::on_header_line(std::string_view line, bool trailer) {
	if (line.front() == ' ' || line.front() == '\t') {
		// RFC 9112 §5.2: obs-fold; refusing it is allowed and is safest.
		fail(Errc::malformed, "obsolete line folding");
		return false;
	}
	const auto colon = line.find(':');
	if (colon == std::string_view::npos || colon == 0) {
		fail(Errc::malformed, "header line without a name");
		return false;
	}
	const std::string_view name = line.substr(0, colon);
	// No whitespace between name and colon (RFC 9112 §5.1): it is not a tchar.
	if (!std::all_of(name.begin(), name.end(), is_tchar)) {
		fail(Errc::malformed, "bad header name");
		return false;
	}
	const std::string_view value = trim_ows(line.substr(colon + 1));
	if (!valid_text(value)) {
		fail(Errc::malformed, "control character in header value");
		return false;
	}
	if (trailer) {
		if (++trailer_count_ > limits_.max_headers) {
			fail(Errc::too_large, "too many trailer fields");
			return false;
		}
		// Trailers are checked but dropped: a trailer must not change what
		// the headers said (a late Content-Type, Content-Length, ...).
		return true;
	}
	if (response_.headers.size() >= limits_.max_headers) {
		fail(Errc::too_large, "too many header fields");
		return false;
	}
	response_.headers.emplace_back(std::string(name), std::string(value));
	return true;
}

bool ResponseParser::on_headers_end() {
	if (response_.status < 200) {
		// RFC 9110 §15.2: interim responses (100 Continue, 102, 103) precede
		// the final one. 101 would switch protocols, which we never ask for.
		if (response_.status == 101) {
			fail(Errc::unsupported, "101 Switching Protocols");
			return false;
		}
		response_ = Response{};
		state_ = State::StatusLine;
		return true;
	}

	bool has_length = false;
	uint64_t length = 0;
	bool has_te = false;
	size_t te_codings = 0;
	bool te_chunked = false;
	for (const auto &[name, value] : response_.headers) {
		if (iequals(name, "Content-Length")) {
			// Duplicates ("5, 5" or two fields) are tolerated only if they
			// agree: a disagreement is how response smuggling starts.
			const bool ok = for_each_element(value, [&](std::string_view v) {
				uint64_t n = 0;
				switch (parse_decimal(v, n)) {
				case NumberError::none: break;
				case NumberError::overflow:
					fail(Errc::too_large, "Content-Length overflows");
					return false;
				case NumberError::malformed:
					fail(Errc::malformed, "bad Content-Length");
					return false;
				}
				if (has_length && n != length) {
					fail(Errc::malformed, "conflicting Content-Length values");
					return false;
				}
				has_length = true;
				length = n;
				return true;
			});
			if (!ok)
				return false;
		} else if (iequals(name, "Transfer-Encoding")) {
			has_te = true;
			for_each_element(value, [&](std::string_view v) {
				if (v.empty())
					return true;
				++te_codings;
				te_chunked = iequals(v, "chunked");
				return true;
			});
		}
	}

	if (head_request_ || response_.status == 204 || response_.status == 304) {
		state_ = State::Done; // RFC 9112 §6.3 rule 1: no body whatever the headers say
		return true;
	}
	if (has_te) {
		// gzip, deflate, ... would need a decoder we refuse to carry; a
		// coding stacked on chunked is no better.
		if (te_codings != 1 || !te_chunked) {
			fail(Errc::unsupported, "transfer coding other than chunked");
			return false;
		}
		if (has_length) {
			fail(Errc::malformed, "both Transfer-Encoding and Content-Length");
			return false;
		}
		state_ = State::ChunkSize;
		return true;
	}
	if (has_length) {
		if (length > limits_.max_body) {
			fail(Errc::too_large, "Content-Length over the body limit");
			return false;
		}
		remaining_ = length;
		state_ = length == 0 ? State::Done : State::BodyLength;
		return true;
	}
	state_ = State::BodyUntilClose;
	return true;
}

bool ResponseParser::on_chunk_size(std::string_view line) {
	size_t i = 0;
	uint64_t size = 0;
	while (i < line.size() && hex_value(line[i]) >= 0) {
		if (size > (std::numeric_limits<uint64_t>::max() >> 4)) {
			fail(Errc::too_large, "chunk size overflows");
			return false;
		}
		size = (size << 4) | uint64_t(hex_value(line[i]));
		++i;
	}
	if (i == 0) {
		fail(Errc::malformed, "bad chunk size");
		return false;
	}
	// chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): checked for
	// stray bytes, otherwise ignored.
	const std::string_view ext = trim_ows(line.substr(i));
	if ((!ext.empty() && ext.front() != ';') || !valid_text(ext)) {
		fail(Errc::malformed, "bad chunk extension");
		return false;
	}
	if (size == 0) {
		state_ = State::Trailers;
		return true;
	}
	if (size > limits_.max_body - response_.body.size()) {
		fail(Errc::too_large, "chunked body over the limit");
		return false;
	}
	remaining_ = size;
	state_ = State::ChunkData;
	return true;
}

ResponseParser::Status ResponseParser::run() {
	// Chunk-size lines and the CRLF after each chunk: bounded in total, so
	// a stream of tiny chunks with long extensions cannot go on forever.
	const size_t framing_budget = limits_.max_header_bytes + limits_.max_body;
	while (true) {
		const size_t avail = buf_.size() - pos_;
		switch (state_) {
		case State::StatusLine:
		case State::Headers: {
			auto line = next_line(head_used_, limits_.max_header_bytes);
			if (!line)
				return status_;
			if (state_ == State::StatusLine) {
				if (!on_status_line(*line))
					return status_;
				state_ = State::Headers;
			} else if (line->empty()) {
				if (!on_headers_end())
					return status_;
			} else if (!on_header_line(*line, false)) {
				return status_;
			}
			break;
		}
		case State::BodyLength:
		case State::ChunkData: {
			if (avail == 0)
				return status_;
			const size_t n = size_t(std::min<uint64_t>(remaining_, avail));
			response_.body.append(buf_, pos_, n);
			pos_ += n;
			remaining_ -= n;
			if (remaining_ == 0)
				state_ = state_ == State::ChunkData ? State::ChunkDataEnd : State::Done;
			break;
		}
		case State::ChunkSize: {
			auto line = next_line(framing_used_, framing_budget);
			if (!line || !on_chunk_size(*line))
				return status_;
			break;
		}
		case State::ChunkDataEnd: {
			auto line = next_line(framing_used_, framing_budget);
			if (!line)
				return status_;
			if (!line->empty())
				return fail(Errc::malformed, "chunk data longer than its size");
			state_ = State::ChunkSize;
			break;
		}
		case State::Trailers: {
			auto line = next_line(trailer_used_, limits_.max_header_bytes);
			if (!line)
				return status_;
			if (line->empty())
				state_ = State::Done;
			else if (!on_header_line(*line, true))
				return status_;
			break;
		}
		case State::BodyUntilClose:
			if (avail == 0)
				return status_;
			if (avail > limits_.max_body - response_.body.size())
				return fail(Errc::too_large, "body over the limit");
			response_.body.append(buf_, pos_, avail);
			pos_ += avail;
			break;
		case State::Done:
			// Anything after the response is not ours to read.
			buf_.clear();
			pos_ = 0;
			return status_ = Status::Done;
		case State::Failed: return status_;
		}
	}
}

Result<Response> parse_response(ByteSpan complete_input, const Limits &limits) {
	ResponseParser parser(limits);
	auto status = parser.feed(complete_input);
	if (status == ResponseParser::Status::NeedMore)
		status = parser.finish();
	if (status == ResponseParser::Status::Done)
		return parser.take();
	return parser.error();
}

} // namespace plum::http
