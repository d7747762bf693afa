// Builds the protocol clients for an environment, most preferred first:
// PCP, NAT-PMP, UPnP-IGD, filtered by Config::protocols.
#pragma once

#include "engine/engine.hpp"

#include <asio/ip/udp.hpp>

namespace plum::api {

engine::ClientFactory make_protocol_factory(asio::io_context &io, const Config &config,
                                            std::chrono::milliseconds mapping_timeout,
                                            std::chrono::milliseconds discover_timeout,
                                            const Logger &logger);

// Where SSDP searches go: the pinned target, else the gateway (unicast) and
// 239.255.255.250 (multicast), on Config::ssdp_port or 1900.
std::vector<asio::ip::udp::endpoint> ssdp_targets(const Config &config,
                                                 const engine::Environment &env);

// The gateway and local address: pinned in the config, else from the kernel.
Result<engine::Environment> discover_environment(const Config &config);

} // namespace plum::api
