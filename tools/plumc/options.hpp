// plumc's command line: what the user asked for, parsed and validated
// before any socket is opened, so that a usage error (exit 2) never sends a
// packet.
#pragma once

#include "plum/plum.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plum::plumc {

enum class Command { None, Map, Unmap, Probe, LocalAddress, Status };

struct Options {
	Command command = Command::None;

	// map / unmap
	IpProtocol protocol = IpProtocol::Tcp;
	uint16_t internal_port = 0;
	std::optional<uint16_t> external_port; // empty: the internal port
	std::optional<uint32_t> lifetime;      // seconds; empty: kDefaultLifetime
	bool hold = false;

	// What the world decides, pinned (see plum::Config).
	std::string gateway;
	std::string local;
	unsigned protocols = 0; // plum::ProtocolFlags; 0: all
	uint16_t pcp_port = 0;
	uint16_t announce_port = 0;
	std::string ssdp_address;
	uint16_t ssdp_port = 0;
	std::chrono::milliseconds timeout{0}; // discover and mapping; 0: defaults

	int verbosity = 0; // -v: 1 (info), -vv: 2 (debug), -vvv: 3 (verbose)
	bool json = false;
	bool help = false;
	bool version = false;
};

inline constexpr uint32_t kDefaultLifetime = 7200;
inline constexpr std::chrono::milliseconds kDefaultTimeout{10000};

// Parses argv[1..]. An error's context() is the one line to print after
// "plumc: " (the caller adds the hint to --help).
Result<Options> parse_options(const std::vector<std::string> &args);

// The full --help text.
std::string usage_text();

// The library configuration the options describe.
Config make_config(const Options &options);
std::chrono::milliseconds effective_timeout(const Options &options);

} // namespace plum::plumc
