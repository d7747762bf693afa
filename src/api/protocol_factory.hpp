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

// IPv6 (Config::families has kIPv6): a second engine, whose clients are PCP
// only (NAT-PMP and UPnP-IGD port mapping are IPv4-only), talking to the
// IPv6 PCP server from our global IPv6 address, and an ANNOUNCE listener on
// [::]:5350 in the ff02::1 group of the gateway's link (RFC 6887 §14.1.3).
engine::ClientFactory make_protocol_factory6(asio::io_context &io, const Config &config,
                                             std::chrono::milliseconds mapping_timeout,
                                             const Logger &logger);

// The IPv6 gateway (Config::gateway_address6, which may carry a %scope, else
// the default route's) and local address (Config::local_address6, else the
// global address of the gateway's interface, or for a gateway that is not
// link-local the address the kernel routes from).
Result<engine::Environment> discover_environment6(const Config &config);

} // namespace plum::api
