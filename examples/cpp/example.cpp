// plum from C++: the default client, a future for the first result of a
// mapping and a callback for every change after it (a new external address,
// the mapping lost and back, DESTROYED at the end).
//
// usage: plum-example-cpp [GATEWAY [HOLD_SECONDS]]
//   GATEWAY       the router's IPv4 address (or $PLUM_GATEWAY); without it,
//                 plum asks the gateway of the default route
//   HOLD_SECONDS  how long to keep the mapping before removing it (10)
//
// Exit status 0 when the port was mapped and then removed, 1 otherwise.
#include <plum/plum.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>

using namespace std::chrono_literals;

int main(int argc, char **argv) {
	plum::Config config;
	config.log_level = plum::LogLevel::Warn;
	if (const char *gateway = argc > 1 ? argv[1] : std::getenv("PLUM_GATEWAY"))
		config.gateway_address = gateway; // empty: discovered
	const auto hold = std::chrono::seconds(argc > 2 ? std::atoi(argv[2]) : 10);

	if (auto started = plum::init(config); !started) {
		std::fprintf(stderr, "init: %s\n", started.error().message().c_str());
		return 1;
	}

	// The callback runs on plum's thread; DESTROYED is its last call.
	std::promise<void> destroyed;
	auto on_change = [&destroyed](int id, plum::State state, const plum::Mapping &m) {
		std::printf("mapping %d: %s external %s:%u via %s\n", id, plum::to_string(state).data(),
		            m.external_host.c_str(), unsigned{m.external_port},
		            plum::to_string(m.mapping_protocol).data());
		std::fflush(stdout);
		if (state == plum::State::Destroyed)
			destroyed.set_value();
	};

	auto first = plum::create_mapping(plum::IpProtocol::Tcp, 8080, 8080, 30s, on_change).get();
	if (!first) {
		std::fprintf(stderr, "no mapping: %s\n", first.error().message().c_str());
		(void)plum::cleanup();
		return 1;
	}
	const plum::Mapping &m = first->mapping;
	std::printf("mapping %d: SUCCESS external %s:%u internal %u via %s\n", first->id,
	            m.external_host.c_str(), unsigned{m.external_port}, unsigned{m.internal_port},
	            plum::to_string(m.mapping_protocol).data());
	std::printf("holding the mapping for %lld s\n", static_cast<long long>(hold.count()));
	std::fflush(stdout);
	std::this_thread::sleep_for(hold);

	// Asynchronous: the callback sees DESTROYED once the router removed it.
	plum::destroy_mapping(first->id);
	int status = 0;
	if (destroyed.get_future().wait_for(15s) != std::future_status::ready) {
		std::fprintf(stderr, "the mapping was not destroyed in time\n");
		status = 1;
	}
	if (auto stopped = plum::cleanup(); !stopped) {
		std::fprintf(stderr, "cleanup: %s\n", stopped.error().message().c_str());
		status = 1;
	}
	return status;
}
