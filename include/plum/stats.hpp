// plum: what the engine has done, for people and monitoring (Client::stats()).
//
// Plain values, copied out of the engine's thread on request: a snapshot,
// never a live view. Counters only grow for the life of a Client (from init
// to cleanup); they survive a change of network, which rebuilds the
// protocol clients.
//
// What each counter counts:
//   requests         messages sent that expect an answer, first transmissions
//                    only: PCP/NAT-PMP requests, UPnP SSDP searches and HTTP
//                    requests (description and SOAP)
//   retransmissions  PCP/NAT-PMP datagrams sent again for lack of an answer
//   timeouts         requests that got no answer in time (after every retry)
//   renewals         mappings refreshed before their lifetime ended
//   recreations      mappings made again after the gateway restarted (PCP or
//                    NAT-PMP epoch, PCP ANNOUNCE, UPnP restart notice)
//   results          every outcome by name: the router's result code as its
//                    RFC names it ("SUCCESS", "NO_RESOURCES",
//                    "OUT_OF_RESOURCES"), a UPnP fault as "UPnP <code>"
//                    ("UPnP 718"), and what the network said instead:
//                    "timeout", "ICMP unreachable", "HTTP <status>",
//                    "malformed", ... (cancellations are not counted)
#pragma once

#include "plum/plum.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace plum {

struct ProtocolStats {
	uint64_t requests = 0;
	uint64_t retransmissions = 0;
	uint64_t timeouts = 0;
	uint64_t renewals = 0;
	uint64_t recreations = 0;
	std::map<std::string, uint64_t> results;
};

struct MappingStats {
	int id = -1;
	State state = State::Pending;
	IpProtocol protocol = IpProtocol::Tcp;
	MappingProtocol mapping_protocol = MappingProtocol::Unknown; // the one that holds it
	uint16_t internal_port = 0;
	uint16_t external_port = 0;       // 0 while not mapped
	std::string external_host;        // empty while not mapped
	std::chrono::milliseconds age{0}; // since the application asked for it
	uint64_t renewals = 0;
	uint64_t recreations = 0;
	uint64_t failures = 0;  // map attempts that failed, in all
	std::string last_error; // the last failure's message ("PCP: NO_RESOURCES: MAP"), or ""
};

struct Stats {
	ProtocolStats pcp, natpmp, upnp;
	MappingProtocol active = MappingProtocol::Unknown; // the protocol in use now
	std::string gateway;                               // empty while no gateway is known
	std::string local_address;                         // likewise
	std::string external_address;                      // empty while not known
	// The external address is private or carrier-grade (100.64.0.0/10).
	bool double_nat = false;
	std::vector<MappingStats> mappings; // live ones, by id
};

} // namespace plum
