// What a protocol client counts (requests, retransmissions, timeouts, each
// outcome by name), for Client::stats(). Each client owns one and keeps it
// up to date where the event happens, on the engine's thread; the engine
// adds what only it knows (renewals, re-creations) and keeps totals across
// the client sets it builds and drops. plum::ProtocolStats (stats.hpp) is
// the public copy.
#pragma once

#include "plum/result.hpp"
#include "plum/stats.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace plum::engine {

// The name an outcome is counted under (see stats.hpp). Names, not
// numbers, so that a reader sees "NO_RESOURCES" rather than "PCP 8". Empty
// for a cancellation: our own doing, not the router's answer.
inline std::string result_name(const Error &e) {
	const std::error_code &c = e.code();
	const std::string_view category = c.category().name();
	if (c.category() == plum_category()) {
		switch (static_cast<Errc>(c.value())) {
		case Errc::ok: return "SUCCESS";
		case Errc::cancelled: return {};
		case Errc::timeout: return "timeout";
		case Errc::unreachable: return "ICMP unreachable";
		case Errc::unsupported: return "unsupported";
		case Errc::malformed: return "malformed";
		case Errc::truncated: return "truncated";
		case Errc::too_large: return "too large";
		case Errc::untrusted: return "untrusted";
		default: return c.message();
		}
	}
	// The router's own result codes read as the RFCs name them.
	if (category == "PCP" || category == "NAT-PMP")
		return c.message();
	// UPnP faults by number: routers invent codes outside the spec's tables.
	if (category == "UPnP")
		return "UPnP " + std::to_string(c.value());
	return std::string(category) + " " + c.message();
}

struct ProtocolCounters {
	uint64_t requests = 0;
	uint64_t retransmissions = 0;
	uint64_t timeouts = 0;
	uint64_t renewals = 0;
	uint64_t recreations = 0;
	std::map<std::string, uint64_t> results;

	void count_result(std::string_view name) {
		if (!name.empty())
			++results[std::string(name)];
	}
	void count_error(const Error &e) { count_result(result_name(e)); }

	ProtocolCounters &operator+=(const ProtocolCounters &o) {
		requests += o.requests;
		retransmissions += o.retransmissions;
		timeouts += o.timeouts;
		renewals += o.renewals;
		recreations += o.recreations;
		for (const auto &[name, n] : o.results)
			results[name] += n;
		return *this;
	}

	ProtocolStats to_stats() const {
		ProtocolStats s;
		s.requests = requests;
		s.retransmissions = retransmissions;
		s.timeouts = timeouts;
		s.renewals = renewals;
		s.recreations = recreations;
		s.results = results;
		return s;
	}
};

} // namespace plum::engine
