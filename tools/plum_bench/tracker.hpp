// Follows every mapping's state callbacks and plum's log lines, so a run can
// wait for "all granted", "a FAILURE", or "n re-mapped since a mark", and
// say when each happened (milliseconds since the tracker's start).
#pragma once

#include "plum/plum.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plum::bench {

class Tracker {
public:
	using Clock = std::chrono::steady_clock;

	Tracker() : start_(Clock::now()) {}

	double since_start(Clock::time_point t) const {
		return std::chrono::duration<double, std::milli>(t - start_).count();
	}
	double now_ms() const { return since_start(Clock::now()); }

	StateCallback callback() {
		return [this](int id, State state, const Mapping &m) { on_state(id, state, m); };
	}
	// For Config::log_callback at LogLevel::Info: counts renewals and restarts.
	std::function<void(LogLevel, std::string_view)> log_callback() {
		return [this](LogLevel, std::string_view line) { on_log(line); };
	}

	// Keeps up to kMaxTrace log lines with their time (--trace).
	void keep_trace() { keep_trace_ = true; }
	std::vector<std::string> trace() const { return trace_; }

	// Marks "now": remapped() and renewals() count from here.
	void mark() {
		std::lock_guard lock(mu_);
		mark_ms_ = now_ms();
		remapped_ = 0;
		renewals_ = 0;
		restart_seen_ms_.reset();
		nth_remap_ms_.reset();
	}

	// Waits until pred() (called under the lock) or the deadline.
	bool wait(const std::function<bool()> &pred, std::chrono::milliseconds timeout) {
		std::unique_lock lock(mu_);
		return cv_.wait_for(lock, timeout, pred);
	}

	// Under the tracker's lock (from a wait predicate) or after a wait.
	int granted() const { return granted_; }       // mappings that reached SUCCESS once
	int failed_now() const { return failed_now_; } // mappings whose last state is FAILURE
	int failures() const { return failures_; }     // FAILURE callbacks
	int destroyed() const { return destroyed_; }
	int remapped() const { return remapped_; } // SUCCESS or renewal since mark()
	int renewals() const { return renewals_; } // renewals since mark()
	std::optional<double> first_success_ms() const { return first_success_ms_; }
	std::optional<double> first_failure_ms() const { return first_failure_ms_; }
	std::optional<double> all_granted_ms() const { return all_granted_ms_; }
	std::optional<double> restart_seen_ms() const { return restart_seen_ms_; }
	std::optional<double> nth_remap_ms() const { return nth_remap_ms_; }
	MappingProtocol protocol() const { return protocol_; }
	std::string external_host() const { return external_host_; }

	void expect(int n) {
		std::lock_guard lock(mu_);
		expected_ = n;
	}
	void expect_remaps(int n) {
		std::lock_guard lock(mu_);
		expected_remaps_ = n;
	}
	std::mutex &mutex() { return mu_; }

private:
	struct PerMapping {
		bool granted = false;
		State last = State::Pending;
	};

	void on_state(int id, State state, const Mapping &m) {
		{
			std::lock_guard lock(mu_);
			const double t = now_ms();
			PerMapping &pm = mappings_[id];
			if (pm.last == State::Failure)
				--failed_now_;
			pm.last = state;
			if (state == State::Success) {
				if (!first_success_ms_)
					first_success_ms_ = t;
				if (!pm.granted) {
					pm.granted = true;
					++granted_;
					if (granted_ == expected_)
						all_granted_ms_ = t;
				}
				protocol_ = m.mapping_protocol;
				external_host_ = m.external_host;
				count_remap(t);
			} else if (state == State::Failure) {
				++failures_;
				++failed_now_;
				if (!first_failure_ms_)
					first_failure_ms_ = t;
			} else if (state == State::Destroyed) {
				++destroyed_;
			}
		}
		cv_.notify_all();
	}

	void on_log(std::string_view line) {
		{
			std::lock_guard lock(mu_);
			const double t = now_ms();
			if (keep_trace_ && trace_.size() < kMaxTrace) {
				char stamp[32];
				std::snprintf(stamp, sizeof stamp, "%.3f ", t);
				trace_.push_back(stamp + std::string(line));
			}
			if (line.find(": renewed ") != std::string_view::npos) {
				++renewals_;
				count_remap(t);
			} else if (line.find(" restarted: ") != std::string_view::npos && !restart_seen_ms_) {
				restart_seen_ms_ = t;
			}
		}
		cv_.notify_all();
	}

	void count_remap(double t) {
		if (!mark_ms_)
			return;
		++remapped_;
		if (remapped_ == expected_remaps_)
			nth_remap_ms_ = t;
	}

	static constexpr size_t kMaxTrace = 4000;
	const Clock::time_point start_;
	bool keep_trace_ = false;
	std::vector<std::string> trace_;
	std::mutex mu_;
	std::condition_variable cv_;
	std::unordered_map<int, PerMapping> mappings_;
	int expected_ = -1;
	int expected_remaps_ = -1;
	int granted_ = 0;
	int failed_now_ = 0;
	int failures_ = 0;
	int destroyed_ = 0;
	int remapped_ = 0;
	int renewals_ = 0;
	std::optional<double> mark_ms_;
	std::optional<double> first_success_ms_;
	std::optional<double> first_failure_ms_;
	std::optional<double> all_granted_ms_;
	std::optional<double> restart_seen_ms_;
	std::optional<double> nth_remap_ms_;
	MappingProtocol protocol_ = MappingProtocol::Unknown;
	std::string external_host_;
};

} // namespace plum::bench
