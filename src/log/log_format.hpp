// The log line's formatter: fmt's "{}" placeholders filled from a flat array
// of arguments, in one non-template function. fmt checks each format string
// against its arguments at compile time (fmt::format_string); nothing of
// fmt's run-time formatting is used, so none of it is compiled in.
//
// Supported: "{}" (a format spec after ':' is ignored), "{{" and "}}";
// strings, characters, bool, integers and floating point, which print as
// fmt prints them with "{}" (floating point in its shortest round-trip form).
#pragma once

// spdlog's choice of fmt (Debian's external one, or the bundled copy), for
// fmt::format_string only.
#include <spdlog/fmt/fmt.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace plum::log_format {

class Arg {
public:
	enum class Kind : unsigned char { none, text, boolean, character, sint, uint, real };

	Arg() = default;
	template <class T> Arg(const T &v) { // NOLINT: implicit on purpose
		using U = std::remove_cv_t<T>;
		if constexpr (std::is_same_v<U, bool>) {
			kind_ = Kind::boolean;
			u_ = v;
		} else if constexpr (std::is_same_v<U, char>) {
			kind_ = Kind::character;
			u_ = static_cast<unsigned char>(v);
		} else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
			kind_ = Kind::sint;
			i_ = v;
		} else if constexpr (std::is_integral_v<U>) {
			kind_ = Kind::uint;
			u_ = v;
		} else if constexpr (std::is_floating_point_v<U>) {
			kind_ = Kind::real;
			d_ = static_cast<double>(v);
		} else {
			static_assert(std::is_convertible_v<const T &, std::string_view>,
			              "log arguments are strings, characters, bool or numbers");
			kind_ = Kind::text;
			s_ = std::string_view(v);
		}
	}

	Kind kind() const noexcept { return kind_; }
	std::string_view text() const noexcept { return s_; }
	long long sint() const noexcept { return i_; }
	unsigned long long uint() const noexcept { return u_; }
	double real() const noexcept { return d_; }

private:
	Kind kind_ = Kind::none;
	std::string_view s_;
	union {
		long long i_;
		unsigned long long u_ = 0;
		double d_;
	};
};

template <class S> std::string_view view(const S &f) {
	auto v = fmt::string_view(f);
	return {v.data(), v.size()};
}

// Fills f's placeholders from args[0..n).
std::string format(std::string_view f, const Arg *args, std::size_t n);

} // namespace plum::log_format
