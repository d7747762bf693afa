#include "status.hpp"

#include "output.hpp"
#include "status_os.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace plum::plumc {

namespace {

constexpr std::string_view kSuffix = ".status";
// A status file is a few KiB; more is not ours.
constexpr size_t kMaxStatusFile = 1 << 20;

#ifndef O_CLOEXEC
constexpr int O_CLOEXEC = 0; // Windows: handles are not inherited by default
#endif
#ifndef O_BINARY
constexpr int O_BINARY = 0;
#endif

bool write_all(int fd, const std::string &data) {
	size_t done = 0;
	while (done < data.size()) {
		const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += static_cast<size_t>(n);
	}
	return true;
}

std::optional<std::string> read_small(const std::string &path) {
	const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_BINARY);
	if (fd < 0)
		return std::nullopt;
	std::string out;
	char buf[4096];
	while (out.size() <= kMaxStatusFile) {
		const ssize_t n = ::read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	::close(fd);
	if (out.size() > kMaxStatusFile)
		return std::nullopt;
	return out;
}

// The text part, made safe for a terminal line by line.
std::string printable_lines(std::string_view text) {
	std::string out;
	while (!text.empty()) {
		const size_t nl = text.find('\n');
		out += printable(text.substr(0, nl)) + "\n";
		if (nl == std::string_view::npos)
			break;
		text.remove_prefix(nl + 1);
	}
	return out;
}

Error system_error(const std::string &what) {
	return Error(std::error_code(errno, std::generic_category()), what);
}

} // namespace

std::string status_dir() {
	if (const char *d = std::getenv("PLUMC_STATUS_DIR"); d && *d)
		return d;
	return default_status_dir();
}

StatusFile::StatusFile(std::string dir, pid_t pid)
    : dir_(std::move(dir)), path_(dir_ + "/" + std::to_string(pid) + std::string(kSuffix)) {}

StatusFile::~StatusFile() {
	remove();
}

Result<void> StatusFile::write(const std::string &json_line, const std::string &text) {
	if (!make_private_dir(dir_))
		return system_error("creating " + dir_);
	const std::string tmp = path_ + ".tmp";
	const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_BINARY, 0600);
	if (fd < 0)
		return system_error("creating " + tmp);
	const bool ok = write_all(fd, json_line + "\n" + text);
	::close(fd);
	if (!ok || !replace_file(tmp, path_)) {
		Error e = system_error("writing " + path_);
		::unlink(tmp.c_str());
		return e;
	}
	written_ = true;
	return {};
}

void StatusFile::remove() {
	if (!written_)
		return;
	::unlink(path_.c_str());
	written_ = false;
}

std::vector<StatusEntry> read_status(const std::string &dir) {
	std::vector<StatusEntry> out;
	DIR *d = ::opendir(dir.c_str());
	if (!d)
		return out;
	while (const dirent *e = ::readdir(d)) {
		const std::string_view name = e->d_name;
		if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix)
			continue;
		const std::string_view digits = name.substr(0, name.size() - kSuffix.size());
		int pid = 0;
		auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
		if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0)
			continue;
		if (!process_alive(pid))
			continue; // left by a holder that did not exit cleanly
		auto content = read_small(dir + "/" + std::string(name));
		if (!content)
			continue; // removed meanwhile: that holder has just exited
		const size_t nl = content->find('\n');
		if (nl == std::string::npos || nl == 0 || (*content)[0] != '{')
			continue;
		out.push_back({pid, content->substr(0, nl), content->substr(nl + 1)});
	}
	::closedir(d);
	std::sort(out.begin(), out.end(),
	          [](const StatusEntry &a, const StatusEntry &b) { return a.pid < b.pid; });
	return out;
}

std::string format_status(const std::vector<StatusEntry> &entries, bool json) {
	if (json) {
		std::string list = "[";
		for (const auto &e : entries) {
			if (list.size() > 1)
				list += ',';
			list += JsonObject().add_int("pid", e.pid).add_raw("stats", e.json).str();
		}
		return JsonObject().add_raw("holders", list + "]").str() + "\n";
	}
	if (entries.empty())
		return "no plumc map --hold is running\n";
	std::string out;
	for (const auto &e : entries) {
		out += "plumc map --hold, pid " + std::to_string(e.pid) + ":\n";
		out += printable_lines(e.text);
	}
	return out;
}

} // namespace plum::plumc
