// plumc's commands. Each returns the process exit status: 0 on success,
// 1 on a runtime failure (after one line on stderr: "plumc: <what>: <why>").
#pragma once

#include "options.hpp"

#include <string_view>

namespace plum::plumc {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// One-shot: choose the protocol, map once, print, exit; the mapping stays
// on the router until its lifetime ends.
int run_map_once(const Options &options);
// The full engine (plum::Client): hold the mapping until SIGINT/SIGTERM,
// print every change, then remove it (hold.cpp).
int run_map_hold(const Options &options);
int run_unmap(const Options &options);
int run_probe(const Options &options);
int run_local_address(const Options &options);
// The status files of the running holders (status.hpp).
int run_status(const Options &options);

// "plumc: <what>: <error message>" on stderr.
void report_error(std::string_view what, const Error &error);
// Writes and flushes stdout at once (a script may be reading line by line).
void print(const std::string &text);

} // namespace plum::plumc
