// Without exceptions in spdlog: its logger would otherwise catch what a sink
// throws and report it through fmt::format, which alone compiles fmt's whole
// run-time formatter into the library. LineSink catches instead (below).
// spdlog is included by this file only, so the setting is the same for
// every use of it.
#define SPDLOG_NO_EXCEPTIONS

#include "log/logger.hpp"

#include <spdlog/details/os.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <string>

namespace plum {

namespace {

spdlog::level::level_enum to_spdlog(LogLevel l) {
	switch (l) {
	case LogLevel::Verbose: return spdlog::level::trace;
	case LogLevel::Debug: return spdlog::level::debug;
	case LogLevel::Info: return spdlog::level::info;
	case LogLevel::Warn: return spdlog::level::warn;
	case LogLevel::Error: return spdlog::level::err;
	case LogLevel::Fatal: return spdlog::level::critical;
	case LogLevel::None: break;
	}
	return spdlog::level::off;
}

LogLevel from_spdlog(spdlog::level::level_enum l) {
	switch (l) {
	case spdlog::level::trace: return LogLevel::Verbose;
	case spdlog::level::debug: return LogLevel::Debug;
	case spdlog::level::info: return LogLevel::Info;
	case spdlog::level::warn: return LogLevel::Warn;
	case spdlog::level::err: return LogLevel::Error;
	case spdlog::level::critical: return LogLevel::Fatal;
	default: break;
	}
	return LogLevel::None;
}

// "2026-11-30 05:33:01.123 info plum: message": the line plum writes to
// stderr when the user gave no callback.
std::string stderr_line(const spdlog::details::log_msg &msg) {
	using namespace std::chrono;
	auto since = msg.time.time_since_epoch();
	std::time_t secs = duration_cast<seconds>(since).count();
	auto ms = static_cast<int>(duration_cast<milliseconds>(since).count() % 1000);
	const std::tm tm = spdlog::details::os::localtime(secs); // localtime_r or _s, per platform
	char stamp[40];
	std::size_t len = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	std::snprintf(stamp + len, sizeof stamp - len, ".%03d ", ms);
	auto level = spdlog::level::to_string_view(msg.level);
	std::string line(stamp);
	line.append(level.data(), level.size());
	line += " plum: ";
	line.append(msg.payload.data(), msg.payload.size());
	line += '\n';
	return line;
}

// The one sink of a client's spdlog logger. plum formats its lines itself
// (the message for the callback, "time level plum: message" for stderr),
// so spdlog's pattern formatter is neither used nor compiled in. The
// callback runs without any lock of ours held (the engine logs from its own
// thread only, and the API thread logs little); a stderr line is one fwrite,
// which stdio serializes.
class LineSink final : public spdlog::sinks::sink {
public:
	explicit LineSink(Logger::Sink sink) : sink_(std::move(sink)) {}

	void log(const spdlog::details::log_msg &msg) override {
		if (sink_) {
			try {
				sink_(from_spdlog(msg.level), std::string_view(msg.payload.data(), msg.payload.size()));
			} catch (const std::exception &e) {
				report_throw(e.what());
			} catch (...) {
				report_throw("unknown exception");
			}
		} else {
			auto line = stderr_line(msg);
			std::fwrite(line.data(), 1, line.size(), stderr);
		}
	}
	void flush() override {
		if (!sink_)
			std::fflush(stderr);
	}
	// The line's layout is plum's (above), not a pattern's.
	void set_pattern(const std::string &) override {}
	void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

private:
	// What spdlog's logger did with a sink that throws: say so on stderr and
	// go on (the line itself is lost).
	static void report_throw(const char *what) {
		std::fprintf(stderr, "plum: the log callback threw: %s\n", what);
	}

	Logger::Sink sink_;
};

} // namespace

struct Logger::Backend {
	std::shared_ptr<spdlog::logger> logger;
};

Logger::Logger(LogLevel level, Sink sink) : level_(level), backend_(std::make_shared<Backend>()) {
	backend_->logger = std::make_shared<spdlog::logger>("plum", std::make_shared<LineSink>(std::move(sink)));
	backend_->logger->set_level(to_spdlog(level));
}

Logger::~Logger() = default;

void Logger::write(LogLevel l, std::string_view line) const {
	if (!backend_ || !enabled(l))
		return;
	backend_->logger->log(to_spdlog(l), spdlog::string_view_t(line.data(), line.size()));
}

} // namespace plum
