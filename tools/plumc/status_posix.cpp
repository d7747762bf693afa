#include "status_os.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace plum::plumc {

bool process_alive(int pid) {
	// EPERM: it exists, under another user.
	return ::kill(pid, 0) == 0 || errno == EPERM;
}

int current_pid() {
	return static_cast<int>(::getpid());
}

std::string default_status_dir() {
	if (::geteuid() == 0)
		return "/run/plumc";
	if (const char *x = std::getenv("XDG_RUNTIME_DIR"); x && *x)
		return std::string(x) + "/plumc";
	return "/tmp/plumc-" + std::to_string(::geteuid());
}

bool make_private_dir(const std::string &dir) {
	return ::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST;
}

bool replace_file(const std::string &from, const std::string &to) {
	return std::rename(from.c_str(), to.c_str()) == 0;
}

} // namespace plum::plumc
