// Builds the protocol clients for an environment, most preferred first:
// PCP, NAT-PMP, UPnP-IGD, filtered by Config::protocols.
#pragma once

#include "engine/engine.hpp"

namespace plum::api {

engine::ClientFactory make_protocol_factory(asio::io_context &io, const Config &config,
                                            std::chrono::milliseconds mapping_timeout,
                                            std::chrono::milliseconds discover_timeout,
                                            const Logger &logger);

// The gateway and local address: pinned in the config, else from the kernel.
Result<engine::Environment> discover_environment(const Config &config);

} // namespace plum::api
