#include "status_os.hpp"

#include <windows.h>

#include <cerrno>
#include <cstdlib>
#include <direct.h>

namespace plum::plumc {

bool process_alive(int pid) {
	HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
	if (!h)
		return ::GetLastError() == ERROR_ACCESS_DENIED; // it exists, under another user
	DWORD code = 0;
	const bool running = ::GetExitCodeProcess(h, &code) && code == STILL_ACTIVE;
	::CloseHandle(h);
	return running;
}

int current_pid() {
	return static_cast<int>(::GetCurrentProcessId());
}

// %LOCALAPPDATA% is the user's own; %TEMP% is too, as a fallback.
std::string default_status_dir() {
	for (const char *var : {"LOCALAPPDATA", "TEMP"})
		if (const char *d = std::getenv(var); d && *d)
			return std::string(d) + "\\plumc";
	return "plumc";
}

bool make_private_dir(const std::string &dir) {
	return ::_mkdir(dir.c_str()) == 0 || errno == EEXIST;
}

// rename() on Windows refuses an existing target.
bool replace_file(const std::string &from, const std::string &to) {
	if (::MoveFileExA(from.c_str(), to.c_str(), MOVEFILE_REPLACE_EXISTING))
		return true;
	errno = EACCES;
	return false;
}

} // namespace plum::plumc
