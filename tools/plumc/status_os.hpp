// What the status files (status.cpp) need from the operating system, one
// file per platform: status_posix.cpp, status_windows.cpp.
#pragma once

#include <string>

namespace plum::plumc {

// Whether process `pid` is running (under any user).
bool process_alive(int pid);
int current_pid();
// Where status files go when $PLUMC_STATUS_DIR is not set.
std::string default_status_dir();
// Creates `dir` for our user only; true if it exists afterwards. errno
// tells why not.
bool make_private_dir(const std::string &dir);
// Moves `from` over `to`, replacing it in one step. errno tells why not.
bool replace_file(const std::string &from, const std::string &to);

} // namespace plum::plumc
