// What the process costs: memory from /proc/self/status, CPU from getrusage.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace plum::bench {

struct Memory {
	int64_t rss_kb = -1; // VmRSS
	int64_t hwm_kb = -1; // VmHWM: the peak resident set
};

inline Memory read_memory() {
	Memory m;
	std::ifstream in("/proc/self/status");
	std::string line;
	while (std::getline(in, line)) {
		if (line.rfind("VmRSS:", 0) == 0)
			m.rss_kb = std::stoll(line.substr(6));
		else if (line.rfind("VmHWM:", 0) == 0)
			m.hwm_kb = std::stoll(line.substr(6));
	}
	return m;
}

// User plus system CPU time of the whole process, in milliseconds.
inline double cpu_ms() {
	rusage ru{};
	getrusage(RUSAGE_SELF, &ru);
	const auto ms = [](const timeval &tv) {
		return double(tv.tv_sec) * 1e3 + double(tv.tv_usec) / 1e3;
	};
	return ms(ru.ru_utime) + ms(ru.ru_stime);
}

} // namespace plum::bench
