// plum: Result<T>, a value or a typed error with a readable message.
//
// C++20 has no std::expected, so plum carries its own small one. An Error
// holds a std::error_code (whose category names the protocol: "PCP",
// "NAT-PMP", "UPnP", "HTTP", ...) and an optional message with context.
#pragma once

#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#if defined(_WIN32)
// As PLUM_EXPORT in plum.h: exported from libplum.dll, imported by its
// users, nothing for a static link.
#if defined(PLUM_STATIC)
#define PLUM_CXX_EXPORT
#elif defined(PLUM_EXPORTS)
#define PLUM_CXX_EXPORT __declspec(dllexport)
#else
#define PLUM_CXX_EXPORT __declspec(dllimport)
#endif
#else
#define PLUM_CXX_EXPORT __attribute__((visibility("default")))
#endif

namespace plum {

// Errors of the library itself (API misuse, engine conditions). Protocol
// errors have their own categories in the protocol layers.
enum class Errc {
	ok = 0,
	invalid_argument,
	not_initialized,
	already_initialized,
	timeout,            // no answer in time
	cancelled,          // the operation was abandoned (destroy, cleanup)
	no_gateway,         // no default gateway or local address found
	unreachable,        // ICMP port unreachable: nothing listens there
	unsupported,        // the gateway does not speak this protocol
	malformed,          // input that does not parse
	truncated,          // input that ends too early
	too_large,          // input over a hard limit
	untrusted,          // input from, or pointing to, a host we did not ask
	failed,             // anything else
};

} // namespace plum

template <> struct std::is_error_code_enum<plum::Errc> : std::true_type {};

namespace plum {

PLUM_CXX_EXPORT const std::error_category &plum_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
	return {static_cast<int>(e), plum_category()};
}

class Error {
public:
	Error() = default;
	Error(std::error_code code, std::string message = {})
	    : code_(code), message_(std::move(message)) {}
	Error(Errc e, std::string message = {}) : Error(make_error_code(e), std::move(message)) {}

	const std::error_code &code() const noexcept { return code_; }
	// "<category>: <code name>[: <context>]", e.g. "PCP: NO_RESOURCES".
	std::string message() const {
		std::string s = std::string(code_.category().name()) + ": " + code_.message();
		if (!message_.empty())
			s += ": " + message_;
		return s;
	}
	const std::string &context() const noexcept { return message_; }

	friend bool operator==(const Error &e, std::error_code c) noexcept { return e.code_ == c; }
	friend bool operator==(const Error &e, Errc c) noexcept { return e.code_ == make_error_code(c); }

private:
	std::error_code code_;
	std::string message_;
};

template <class T> class [[nodiscard]] Result {
public:
	Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
	Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}
	Result(Errc e, std::string msg = {}) : Result(Error(e, std::move(msg))) {}
	Result(std::error_code c, std::string msg = {}) : Result(Error(c, std::move(msg))) {}

	bool ok() const noexcept { return v_.index() == 0; }
	explicit operator bool() const noexcept { return ok(); }

	T &value() & { return std::get<0>(v_); }
	const T &value() const & { return std::get<0>(v_); }
	T &&value() && { return std::get<0>(std::move(v_)); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }

	const Error &error() const & { return std::get<1>(v_); }

private:
	std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
public:
	Result() = default;
	Result(Error error) : error_(std::move(error)), ok_(false) {}
	Result(Errc e, std::string msg = {}) : Result(Error(e, std::move(msg))) {}
	Result(std::error_code c, std::string msg = {}) : Result(Error(c, std::move(msg))) {}

	bool ok() const noexcept { return ok_; }
	explicit operator bool() const noexcept { return ok_; }
	const Error &error() const & { return error_; }

private:
	Error error_;
	bool ok_ = true;
};

} // namespace plum
