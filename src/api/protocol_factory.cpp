#include "api/protocol_factory.hpp"

#include "net/route.hpp"

namespace plum::api {

Result<engine::Environment> discover_environment(const Config &config) {
	engine::Environment env;
	std::error_code ec;
	if (!config.gateway_address.empty()) {
		env.gateway = asio::ip::make_address_v4(config.gateway_address, ec);
		if (ec)
			return Error(Errc::invalid_argument, "gateway address " + config.gateway_address);
	} else {
		auto gw = net::default_gateway();
		if (!gw)
			return gw.error();
		env.gateway = *gw;
	}
	if (!config.local_address.empty()) {
		env.local = asio::ip::make_address_v4(config.local_address, ec);
		if (ec)
			return Error(Errc::invalid_argument, "local address " + config.local_address);
	} else {
		auto local = net::local_address_towards(env.gateway);
		if (!local)
			return local.error();
		env.local = *local;
	}
	return env;
}

engine::ClientFactory make_protocol_factory(asio::io_context &io, const Config &config,
                                            std::chrono::milliseconds mapping_timeout,
                                            std::chrono::milliseconds discover_timeout,
                                            const Logger &logger) {
	(void)io;
	(void)config;
	(void)mapping_timeout;
	(void)discover_timeout;
	(void)logger;
	return [](const engine::Environment &) {
		// The protocol clients join here as they land (PCP, NAT-PMP, UPnP).
		return std::vector<std::unique_ptr<engine::ProtocolClient>>{};
	};
}

} // namespace plum::api
