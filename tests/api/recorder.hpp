// Collects state changes from plum callbacks (which run on the engine's
// thread) and lets a test wait for a condition with a bounded timeout.
#pragma once

#include "plum/plum.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace plum::test {

struct Change {
	int id;
	State state;
	Mapping mapping;
};

class Recorder {
public:
	StateCallback callback() {
		return [this](int id, State s, const Mapping &m) {
			std::lock_guard lock(mutex_);
			changes_.push_back({id, s, m});
			cv_.notify_all();
		};
	}
	int count(int id, State s) const {
		std::lock_guard lock(mutex_);
		int n = 0;
		for (auto &c : changes_)
			n += c.id == id && c.state == s;
		return n;
	}
	int count(State s) const {
		std::lock_guard lock(mutex_);
		int n = 0;
		for (auto &c : changes_)
			n += c.state == s;
		return n;
	}
	std::vector<Change> all() const {
		std::lock_guard lock(mutex_);
		return changes_;
	}
	bool wait(const std::function<bool()> &pred, std::chrono::milliseconds timeout) {
		const auto deadline = std::chrono::steady_clock::now() + timeout;
		std::unique_lock lock(mutex_);
		while (true) {
			lock.unlock();
			if (pred())
				return true;
			lock.lock();
			if (cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
			                                                std::chrono::milliseconds(10))) ==
			        std::cv_status::timeout &&
			    std::chrono::steady_clock::now() >= deadline) {
				lock.unlock();
				return pred();
			}
		}
	}

private:
	mutable std::mutex mutex_;
	std::condition_variable cv_;
	std::vector<Change> changes_;
};

// A UDP port on 127.0.0.1 that was free a moment ago.
inline uint16_t free_udp_port() {
	asio::io_context io;
	asio::ip::udp::socket s(io, asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0));
	return s.local_endpoint().port();
}

} // namespace plum::test
