// A flat JSON object written field by field: the driver prints one per run
// and tools/bench parses it. Only what the driver needs: numbers, strings,
// booleans, null and arrays of numbers.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plum::bench {

class JsonOut {
public:
	JsonOut &add(std::string_view key, std::string_view value) { return raw(key, quote(value)); }
	static std::string quote(std::string_view value) {
		std::string quoted = "\"";
		for (char c : value) {
			if (c == '"' || c == '\\')
				quoted += '\\';
			if (static_cast<unsigned char>(c) < 0x20)
				continue; // control characters carry nothing a report needs
			quoted += c;
		}
		quoted += '"';
		return quoted;
	}
	JsonOut &add(std::string_view key, const char *value) {
		return add(key, std::string_view(value));
	}
	JsonOut &add(std::string_view key, bool value) { return raw(key, value ? "true" : "false"); }
	JsonOut &add(std::string_view key, int64_t value) { return raw(key, std::to_string(value)); }
	JsonOut &add(std::string_view key, int value) { return add(key, int64_t(value)); }
	JsonOut &add(std::string_view key, unsigned value) { return add(key, int64_t(value)); }
	JsonOut &add(std::string_view key, uint64_t value) { return raw(key, std::to_string(value)); }
	JsonOut &add(std::string_view key, double value) { return raw(key, number(value)); }
	template <typename T> JsonOut &add(std::string_view key, const std::optional<T> &value) {
		if (!value)
			return raw(key, "null");
		return add(key, *value);
	}
	JsonOut &add(std::string_view key, const std::vector<double> &values) {
		std::string s = "[";
		for (size_t i = 0; i < values.size(); ++i)
			s += (i ? "," : "") + number(values[i]);
		return raw(key, s + "]");
	}
	JsonOut &add(std::string_view key, const std::vector<uint64_t> &values) {
		std::string s = "[";
		for (size_t i = 0; i < values.size(); ++i)
			s += (i ? "," : "") + std::to_string(values[i]);
		return raw(key, s + "]");
	}

	JsonOut &add(std::string_view key, const std::vector<std::string> &values) {
		std::string s = "[";
		for (size_t i = 0; i < values.size(); ++i)
			s += (i ? "," : "") + quote(values[i]);
		return raw(key, s + "]");
	}

	std::string str() const { return "{" + body_ + "}"; }

private:
	static std::string number(double v) {
		if (!std::isfinite(v))
			return "null";
		char buf[64];
		std::snprintf(buf, sizeof buf, "%.3f", v);
		return buf;
	}
	JsonOut &raw(std::string_view key, std::string_view value) {
		if (!body_.empty())
			body_ += ", ";
		body_ += '"';
		body_ += key;
		body_ += "\": ";
		body_ += value;
		return *this;
	}
	std::string body_;
};

} // namespace plum::bench
