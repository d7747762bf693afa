// plum's own cost, with no router in the way: the engine against the
// loopback PCP responder (tests/mock_router), run in a child process so the
// figures (CPU, RSS) are plum's and the driver's alone. Gateway 127.0.0.1,
// every port pinned; no root, no lab.
#pragma once

#include "json_out.hpp"
#include "options.hpp"

namespace plum::bench {

// n mappings to all-SUCCESS, RSS with them live, then renewals watched for
// window_s (lifetime_s short): CPU per 1000 renewals and a histogram of
// renewal requests per 100 ms, then cleanup and what the router still holds.
JsonOut run_mock(const Options &o);

} // namespace plum::bench
