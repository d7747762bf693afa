// `plumc status`: the counters of every running `plumc map --hold`.
//
// Each holder publishes its Client::stats() in a file of its own,
// <dir>/<pid>.status, rewritten on every change and every
// kStatusRefresh: written to <pid>.status.tmp and renamed over the old one,
// so a reader never sees half a file. It is removed when the holder exits;
// a file left by a process that died (SIGKILL) is skipped by `plumc status`
// because its pid is gone. The file holds two parts: the first line is the
// stats JSON object (stats_json), the rest the same for people
// (stats_text). No socket, no daemon: a reader needs only the directory.
//
// The directory: $PLUMC_STATUS_DIR if set, else /run/plumc for root, else
// $XDG_RUNTIME_DIR/plumc, else /tmp/plumc-<uid>. It is created (mode 0700)
// when missing.
#pragma once

#include "plum/result.hpp"

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace plum::plumc {

inline constexpr std::chrono::seconds kStatusRefresh{2};

std::string status_dir();

// The status file of one process.
class StatusFile {
public:
	StatusFile(std::string dir, pid_t pid);
	~StatusFile(); // removes the file
	StatusFile(const StatusFile &) = delete;
	StatusFile &operator=(const StatusFile &) = delete;

	// Replaces the file's content atomically (creating the directory).
	Result<void> write(const std::string &json_line, const std::string &text);
	void remove();
	const std::string &path() const noexcept { return path_; }

private:
	std::string dir_;
	std::string path_;
	bool written_ = false;
};

struct StatusEntry {
	pid_t pid = 0;
	std::string json; // the stats object
	std::string text;
};
// The status of every live holder in dir, by pid.
std::vector<StatusEntry> read_status(const std::string &dir);

std::string format_status(const std::vector<StatusEntry> &entries, bool json);

} // namespace plum::plumc
