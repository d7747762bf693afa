// Per-client logging. Formatting happens only when the level is enabled.
// Call sites keep fmt's "{}" syntax, checked at compile time, but the line
// is put together by plum's own small formatter (log_format.cpp): fmt's
// run-time formatting (float printing alone is ~100 KB) would otherwise be
// compiled into the library. The sink (spdlog, routed to the user's
// callback or stderr) lives in logger.cpp so that no other file pulls in
// spdlog's logger.
#pragma once

#include "log/log_format.hpp"
#include "plum/plum.hpp"

#include <functional>
#include <memory>
#include <string_view>
#include <utility>

namespace plum {

class Logger {
public:
	using Sink = std::function<void(LogLevel, std::string_view)>;

	// A disabled logger (level None): what codec tests and tools get.
	Logger() = default;
	// sink empty: lines go to stderr through spdlog.
	Logger(LogLevel level, Sink sink);
	~Logger();
	Logger(const Logger &) = default;
	Logger &operator=(const Logger &) = default;

	bool enabled(LogLevel l) const noexcept {
		return level_ != LogLevel::None && l >= level_ && l != LogLevel::None;
	}

	template <class... A> void log(LogLevel l, fmt::format_string<A...> f, A &&...a) const {
		if (enabled(l)) {
			const log_format::Arg args[] = {log_format::Arg(a)..., log_format::Arg()};
			write(l, log_format::format(log_format::view(f), args, sizeof...(A)));
		}
	}
	template <class... A> void verbose(fmt::format_string<A...> f, A &&...a) const {
		log(LogLevel::Verbose, f, std::forward<A>(a)...);
	}
	template <class... A> void debug(fmt::format_string<A...> f, A &&...a) const {
		log(LogLevel::Debug, f, std::forward<A>(a)...);
	}
	template <class... A> void info(fmt::format_string<A...> f, A &&...a) const {
		log(LogLevel::Info, f, std::forward<A>(a)...);
	}
	template <class... A> void warn(fmt::format_string<A...> f, A &&...a) const {
		log(LogLevel::Warn, f, std::forward<A>(a)...);
	}
	template <class... A> void error(fmt::format_string<A...> f, A &&...a) const {
		log(LogLevel::Error, f, std::forward<A>(a)...);
	}

	void write(LogLevel l, std::string_view line) const;

private:
	struct Backend;
	LogLevel level_ = LogLevel::None;
	std::shared_ptr<Backend> backend_;
};

} // namespace plum
