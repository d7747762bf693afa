// One mapping as the engine keeps it: the request, what the router granted,
// where it stands, and its history for stats(). Private to the engine's
// files (engine.cpp, mappings.cpp, report.cpp).
#pragma once

#include "engine/engine.hpp"

#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace plum::engine {

struct Engine::Record {
	Record(asio::io_context &io, int id) : id(id), timer(io) {}
	int id;
	MapRequest request;
	State state = State::Pending;
	MappingProtocol protocol = MappingProtocol::Unknown;
	std::optional<MapGrant> grant;
	ProtocolClient *mapped_by = nullptr; // the client that holds the grant
	uint64_t attempt = 0;                // the map() in flight, 0 when none
	bool destroying = false;
	bool remap_pending = false; // something asked for a re-map while one was in flight
	// A map() went unanswered (timed out): the router may hold the mapping
	// even without a grant, so a destroy must still delete it.
	bool uncertain = false;
	unsigned failures = 0;
	asio::steady_timer timer; // renewal or retry
	// Its history, for stats().
	std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
	uint64_t renewals = 0;
	uint64_t recreations = 0;
	uint64_t failed_attempts = 0;
	std::string last_error;
	std::chrono::steady_clock::time_point granted_at; // of the current grant
	bool recreate_pending = false;                    // the gateway restarted while we held it
};

} // namespace plum::engine
