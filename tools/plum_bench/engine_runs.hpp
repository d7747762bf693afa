// The runs that drive plum's engine (plum::Client) against a router: each
// returns one JSON object of figures. All waits are bounded by the options'
// deadline.
#pragma once

#include "json_out.hpp"
#include "options.hpp"

namespace plum::bench {

// n mappings from init to all-SUCCESS (or the first FAILURE with
// expect_failure), memory with them live, then cleanup (at once, while they
// are pending, with cleanup_pending).
JsonOut run_bulk(const Options &o);
// n mappings, then `on_ready` restarts the router; how long until they are
// all back (re-mapped as seen by plum, and counted on the router by `count_cmd`).
JsonOut run_restart(const Options &o);
// n mappings with a short lifetime; CPU time per renewal over a window.
JsonOut run_renew(const Options &o);

} // namespace plum::bench
