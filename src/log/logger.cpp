#include "log/logger.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

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

// Hands each formatted line to the user's callback. The callback runs
// without any lock of ours held (spdlog's null_mutex sink; the engine logs
// from its own thread only, and the API thread logs little).
class CallbackSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
public:
	explicit CallbackSink(Logger::Sink sink) : sink_(std::move(sink)) {}

protected:
	void sink_it_(const spdlog::details::log_msg &msg) override {
		sink_(from_spdlog(msg.level), std::string_view(msg.payload.data(), msg.payload.size()));
	}
	void flush_() override {}

private:
	Logger::Sink sink_;
};

} // namespace

struct Logger::Backend {
	std::shared_ptr<spdlog::logger> logger;
};

Logger::Logger(LogLevel level, Sink sink) : level_(level), backend_(std::make_shared<Backend>()) {
	if (sink) {
		backend_->logger = std::make_shared<spdlog::logger>(
		    "plum", std::make_shared<CallbackSink>(std::move(sink)));
		backend_->logger->set_pattern("%v");
	} else {
		backend_->logger = std::make_shared<spdlog::logger>(
		    "plum", std::make_shared<spdlog::sinks::stderr_sink_mt>());
		backend_->logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ plum: %v");
	}
	backend_->logger->set_level(to_spdlog(level));
}

Logger::~Logger() = default;

void Logger::write(LogLevel l, std::string_view line) const {
	if (!backend_ || !enabled(l))
		return;
	backend_->logger->log(to_spdlog(l), "{}", line);
}

} // namespace plum
