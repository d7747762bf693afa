// plumc: port mapping from the command line (like upnpc and natpmpc), on
// plum's protocol clients and engine. See `plumc --help`.
#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#ifndef PLUMC_VERSION
#define PLUMC_VERSION "unknown"
#endif

int main(int argc, char **argv) {
	using namespace plum::plumc;
	std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
	auto parsed = parse_options(args);
	if (!parsed) {
		std::fprintf(stderr, "plumc: %s (see plumc --help)\n",
		             printable(parsed.error().context()).c_str());
		return kExitUsage;
	}
	const Options &o = *parsed;
	if (o.help) {
		print(usage_text());
		return kExitOk;
	}
	if (o.version) {
		print("plumc " PLUMC_VERSION "\n");
		return kExitOk;
	}
	try {
		switch (o.command) {
		case Command::Map: return o.hold ? run_map_hold(o) : run_map_once(o);
		case Command::Unmap: return run_unmap(o);
		case Command::Probe: return run_probe(o);
		case Command::LocalAddress: return run_local_address(o);
		case Command::Status: return run_status(o);
		case Command::None: break;
		}
	} catch (const std::exception &e) {
		// asio reports socket setup failures (no free port, no permission)
		// by throwing; they are runtime failures like any other.
		report_error("error", plum::Error(plum::Errc::failed, e.what()));
		return kExitFailure;
	}
	return kExitUsage;
}
