#include "log/log_format.hpp"

#include <charconv>

namespace plum::log_format {

namespace {

void append(std::string &out, const Arg &a) {
	char buf[32];
	std::to_chars_result r{buf, {}};
	switch (a.kind()) {
	case Arg::Kind::none: return;
	case Arg::Kind::text: out += a.text(); return;
	case Arg::Kind::boolean: out += a.uint() ? "true" : "false"; return;
	case Arg::Kind::character: out += static_cast<char>(a.uint()); return;
	case Arg::Kind::sint: r = std::to_chars(buf, buf + sizeof buf, a.sint()); break;
	case Arg::Kind::uint: r = std::to_chars(buf, buf + sizeof buf, a.uint()); break;
	case Arg::Kind::real: r = std::to_chars(buf, buf + sizeof buf, a.real()); break;
	}
	out.append(buf, r.ptr);
}

} // namespace

std::string format(std::string_view f, const Arg *args, std::size_t n) {
	std::string out;
	out.reserve(f.size() + 16 * n);
	std::size_t next = 0;
	for (std::size_t i = 0; i < f.size(); ++i) {
		char c = f[i];
		if (c == '{' && i + 1 < f.size() && f[i + 1] == '{') {
			out += '{';
			++i;
		} else if (c == '}' && i + 1 < f.size() && f[i + 1] == '}') {
			out += '}';
			++i;
		} else if (c == '{') {
			auto close = f.find('}', i);
			if (close == std::string_view::npos)
				close = f.size();
			if (next < n)
				append(out, args[next++]);
			i = close;
		} else {
			out += c;
		}
	}
	return out;
}

} // namespace plum::log_format
