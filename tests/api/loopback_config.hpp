// The Config every loopback test of plum::Client starts from: the gateway,
// local address and ports pinned to the mock router on 127.0.0.1, so
// nothing leaves the machine, and short timeouts.
#pragma once

#include "pcp_responder.hpp"
#include "plum/plum.hpp"
#include "recorder.hpp"

namespace plum::test {

inline Config loopback_config(const PcpResponder &router,
                              unsigned protocols = kUsePcp | kUseNatPmp) {
	using namespace std::chrono_literals;
	Config c;
	c.gateway_address = "127.0.0.1";
	c.local_address = "127.0.0.1";
	c.pcp_port = router.port();
	c.announce_port = free_udp_port();
	c.protocols = protocols;
	c.discover_timeout = 1500ms;
	c.mapping_timeout = 2000ms;
	return c;
}

} // namespace plum::test
