// plum_bench's command line: one mode and its knobs (see main.cpp's usage).
#pragma once

#include <cstdint>
#include <string>

namespace plum::bench {

struct Options {
	std::string mode; // bulk | restart | renew | floor | mock

	// Where the router is (lab: 192.168.77.1 from 192.168.77.2).
	std::string gateway;
	std::string local;
	unsigned protocols = 0; // plum::ProtocolFlags; 0: all
	uint16_t pcp_port = 0;  // 0: 5351

	int n = 1;                    // mappings
	uint16_t base_port = 20000;   // internal (and asked external) ports: base .. base+n-1
	bool udp = false;             // TCP by default
	int discover_ms = 0;          // plum's discover timeout; 0: default
	int recheck_ms = 0;           // plum's recheck period; 0: default
	int lifetime_s = 0;           // lifetime asked of the router; 0: plum's default
	int deadline_ms = 60000;      // how long to wait for all-SUCCESS (or a FAILURE)
	bool expect_failure = false;  // bulk: wait for the first FAILURE instead
	bool cleanup_pending = false; // bulk: cleanup once n/10 are granted, the rest pending
	int window_s = 10;
	bool trace = false; // bulk: plum's debug log lines, timed, in the output            //
	                    // renew/mock: how long renewals are watched

	std::string on_ready;  // restart: the command that restarts the router
	std::string count_cmd; // restart: prints the number of rules on the router
	int rto_ms = 2000;     // floor: the fixed retransmission timeout
};

} // namespace plum::bench
