// What the tests against the loopback mock router share: running an
// io_context until a condition holds, bounded, and whether this host can
// use ::1 at all (IPv6 may be off in a container).
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/address_v6.hpp>
#include <asio/ip/udp.hpp>

#include <algorithm>
#include <chrono>
#include <system_error>

namespace plum::test {

// Runs `io` until pred() holds or `timeout` passes; true if pred() holds.
template <class Pred>
bool run_until(asio::io_context &io, Pred pred,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
	using Clock = std::chrono::steady_clock;
	const auto deadline = Clock::now() + timeout;
	while (!pred()) {
		const auto now = Clock::now();
		if (now >= deadline)
			return false;
		if (io.stopped())
			io.restart();
		if (io.run_one_for(std::min<Clock::duration>(deadline - now, std::chrono::milliseconds(20))) == 0)
			io.restart();
	}
	return true;
}

inline bool have_ipv6_loopback() {
	asio::io_context io;
	asio::ip::udp::socket s(io);
	std::error_code ec;
	s.open(asio::ip::udp::v6(), ec);
	if (!ec)
		s.bind({asio::ip::address_v6::loopback(), 0}, ec);
	return !ec;
}

} // namespace plum::test
