// A strict little JSON reader (RFC 8259) for the plumc tests: it checks that
// what plumc prints parses as a whole, then lets a test look fields up.
// Numbers are kept as doubles, strings with their escapes decoded (\uXXXX
// as UTF-8, surrogate pairs included). Nesting and input are bounded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plum::test {

struct Json {
	enum class Kind { Null, Bool, Number, String, Array, Object };
	Kind kind = Kind::Null;
	bool boolean = false;
	double number = 0;
	std::string string;
	std::vector<Json> array;
	// An object's members in document order: keys[i] names values[i]. (Two
	// vectors: std::vector, unlike std::pair, accepts the incomplete Json.)
	std::vector<std::string> keys;
	std::vector<Json> values;

	bool is_null() const { return kind == Kind::Null; }
	bool has(std::string_view key) const { return find(key) != nullptr; }
	const Json *find(std::string_view key) const {
		for (size_t i = 0; i < keys.size(); ++i)
			if (keys[i] == key)
				return &values[i];
		return nullptr;
	}
	// The member `key`; throws when there is none (a test failure).
	const Json &operator[](std::string_view key) const {
		if (kind != Kind::Object)
			throw std::runtime_error("not an object, looking up " + std::string(key));
		if (const Json *v = find(key))
			return *v;
		throw std::runtime_error("no member " + std::string(key));
	}
	const Json &operator[](size_t i) const {
		if (kind != Kind::Array || i >= array.size())
			throw std::runtime_error("no element " + std::to_string(i));
		return array[i];
	}
	const std::string &str() const {
		if (kind != Kind::String)
			throw std::runtime_error("not a string");
		return string;
	}
	int64_t integer() const {
		if (kind != Kind::Number)
			throw std::runtime_error("not a number");
		return static_cast<int64_t>(number);
	}
	bool flag() const {
		if (kind != Kind::Bool)
			throw std::runtime_error("not a boolean");
		return boolean;
	}
};

class JsonParser {
public:
	// The whole text must be one value (surrounding whitespace allowed).
	static std::optional<Json> parse(std::string_view text) {
		JsonParser p(text);
		try {
			Json v = p.value(0);
			p.ws();
			if (p.pos_ != text.size())
				return std::nullopt;
			return v;
		} catch (const std::runtime_error &) {
			return std::nullopt;
		}
	}

private:
	explicit JsonParser(std::string_view t) : t_(t) {}

	[[noreturn]] void fail() const { throw std::runtime_error("bad JSON"); }
	char peek() const { return pos_ < t_.size() ? t_[pos_] : '\0'; }
	char next() {
		if (pos_ >= t_.size())
			fail();
		return t_[pos_++];
	}
	void ws() {
		while (pos_ < t_.size() &&
		       (t_[pos_] == ' ' || t_[pos_] == '\n' || t_[pos_] == '\r' || t_[pos_] == '\t'))
			++pos_;
	}
	void literal(std::string_view word) {
		if (t_.substr(pos_, word.size()) != word)
			fail();
		pos_ += word.size();
	}

	Json value(int depth) {
		if (depth > 32)
			fail();
		ws();
		Json v;
		const char c = peek();
		if (c == '{') {
			v.kind = Json::Kind::Object;
			++pos_;
			ws();
			if (peek() == '}') {
				++pos_;
				return v;
			}
			while (true) {
				ws();
				if (peek() != '"')
					fail();
				std::string key = string();
				ws();
				if (next() != ':')
					fail();
				Json member = value(depth + 1);
				v.keys.push_back(std::move(key));
				v.values.push_back(std::move(member));
				ws();
				const char d = next();
				if (d == '}')
					return v;
				if (d != ',')
					fail();
			}
		}
		if (c == '[') {
			v.kind = Json::Kind::Array;
			++pos_;
			ws();
			if (peek() == ']') {
				++pos_;
				return v;
			}
			while (true) {
				v.array.push_back(value(depth + 1));
				ws();
				const char d = next();
				if (d == ']')
					return v;
				if (d != ',')
					fail();
			}
		}
		if (c == '"') {
			v.kind = Json::Kind::String;
			v.string = string();
			return v;
		}
		if (c == 't' || c == 'f') {
			v.kind = Json::Kind::Bool;
			v.boolean = c == 't';
			literal(c == 't' ? "true" : "false");
			return v;
		}
		if (c == 'n') {
			literal("null");
			return v;
		}
		v.kind = Json::Kind::Number;
		v.number = number();
		return v;
	}

	double number() {
		const size_t start = pos_;
		if (peek() == '-')
			++pos_;
		if (peek() == '0') {
			++pos_;
		} else if (peek() >= '1' && peek() <= '9') {
			while (peek() >= '0' && peek() <= '9')
				++pos_;
		} else {
			fail();
		}
		if (peek() == '.') {
			++pos_;
			if (!(peek() >= '0' && peek() <= '9'))
				fail();
			while (peek() >= '0' && peek() <= '9')
				++pos_;
		}
		if (peek() == 'e' || peek() == 'E') {
			++pos_;
			if (peek() == '+' || peek() == '-')
				++pos_;
			if (!(peek() >= '0' && peek() <= '9'))
				fail();
			while (peek() >= '0' && peek() <= '9')
				++pos_;
		}
		return std::stod(std::string(t_.substr(start, pos_ - start)));
	}

	unsigned hex4() {
		unsigned v = 0;
		for (int i = 0; i < 4; ++i) {
			const char c = next();
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= unsigned(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= unsigned(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= unsigned(c - 'A' + 10);
			else
				fail();
		}
		return v;
	}

	static void utf8(std::string &out, uint32_t cp) {
		if (cp < 0x80) {
			out += char(cp);
		} else if (cp < 0x800) {
			out += char(0xc0 | (cp >> 6));
			out += char(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out += char(0xe0 | (cp >> 12));
			out += char(0x80 | ((cp >> 6) & 0x3f));
			out += char(0x80 | (cp & 0x3f));
		} else {
			out += char(0xf0 | (cp >> 18));
			out += char(0x80 | ((cp >> 12) & 0x3f));
			out += char(0x80 | ((cp >> 6) & 0x3f));
			out += char(0x80 | (cp & 0x3f));
		}
	}

	std::string string() {
		if (next() != '"')
			fail();
		std::string out;
		while (true) {
			const char c = next();
			if (c == '"')
				return out;
			if (static_cast<unsigned char>(c) < 0x20)
				fail(); // control characters must be escaped
			if (c != '\\') {
				out += c;
				continue;
			}
			const char e = next();
			switch (e) {
			case '"': out += '"'; break;
			case '\\': out += '\\'; break;
			case '/': out += '/'; break;
			case 'b': out += '\b'; break;
			case 'f': out += '\f'; break;
			case 'n': out += '\n'; break;
			case 'r': out += '\r'; break;
			case 't': out += '\t'; break;
			case 'u': {
				uint32_t cp = hex4();
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (next() != '\\' || next() != 'u')
						fail();
					const uint32_t lo = hex4();
					if (lo < 0xdc00 || lo > 0xdfff)
						fail();
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					fail();
				}
				utf8(out, cp);
				break;
			}
			default: fail();
			}
		}
	}

	std::string_view t_;
	size_t pos_ = 0;
};

} // namespace plum::test
