// The router's floor: a minimal PCP client (RFC 6887 MAP, §11) with one
// request in flight and a fixed retransmission timeout, no engine, no
// probing. What it achieves is what the router itself allows; plum's bulk
// figures are reported as ratios to it.
#pragma once

#include "json_out.hpp"
#include "options.hpp"

namespace plum::bench {

// Maps n ports one at a time (base_port..), then deletes them one at a time
// (lifetime 0, same nonce). Times both; counts retransmissions and refusals.
JsonOut run_reference_sender(const Options &o);

} // namespace plum::bench
