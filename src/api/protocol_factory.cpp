#include "api/protocol_factory.hpp"

#include "net/address.hpp"
#include "net/route.hpp"
#include "pcp/announce_listener.hpp"
#include "pcp/natpmp_client.hpp"
#include "pcp/pcp_client.hpp"
#include "upnp/notify_listener.hpp"
#include "upnp/ssdp.hpp"
#include "upnp/upnp_client.hpp"

namespace plum::api {

Result<engine::Environment> discover_environment(const Config &config) {
	engine::Environment env;
	std::error_code ec;
	asio::ip::address_v4 gateway;
	if (!config.gateway_address.empty()) {
		gateway = net::parse_address_v4(config.gateway_address, ec);
		if (ec)
			return Error(Errc::invalid_argument, "gateway address " + config.gateway_address);
	} else {
		auto gw = net::default_gateway();
		if (!gw)
			return gw.error();
		gateway = *gw;
	}
	env.gateway = gateway;
	if (!config.local_address.empty()) {
		env.local = net::parse_address_v4(config.local_address, ec);
		if (ec)
			return Error(Errc::invalid_argument, "local address " + config.local_address);
	} else {
		auto local = net::local_address_towards(gateway);
		if (!local)
			return local.error();
		env.local = *local;
	}
	return env;
}

Result<engine::Environment> discover_environment6(const Config &config) {
	engine::Environment env;
	std::error_code ec;
	asio::ip::address_v6 gateway;
	unsigned interface_index = 0; // the gateway's, when known
	if (!config.gateway_address6.empty()) {
		// asio turns "%ifname" into the interface's scope id.
		gateway = asio::ip::make_address_v6(config.gateway_address6, ec);
		if (ec)
			return Error(Errc::invalid_argument, "IPv6 gateway address " + config.gateway_address6);
		if (gateway.is_link_local() && gateway.scope_id() == 0)
			return Error(Errc::invalid_argument, "link-local IPv6 gateway " +
			                                         config.gateway_address6 +
			                                         " needs its interface: fe80::...%ifname");
		interface_index = static_cast<unsigned>(gateway.scope_id());
	} else {
		auto gw = net::default_gateway6();
		if (!gw)
			return gw.error();
		gateway = gw->address;
		interface_index = gw->index;
	}
	env.gateway = gateway;
	if (!config.local_address6.empty()) {
		auto local = asio::ip::make_address_v6(config.local_address6, ec);
		if (ec)
			return Error(Errc::invalid_argument, "local IPv6 address " + config.local_address6);
		env.local = local;
	} else if (gateway.is_link_local()) {
		// The kernel would send from our link-local address to a link-local
		// gateway; the pinhole is for the global one.
		if (interface_index == 0)
			return Error(Errc::no_gateway, "no interface for IPv6 gateway " + gateway.to_string());
		auto local = net::global_address6(interface_index);
		if (!local)
			return local.error();
		env.local = *local;
	} else {
		auto local = net::local_address_towards6(gateway);
		if (!local)
			return local.error();
		env.local = *local;
	}
	return env;
}

std::vector<asio::ip::udp::endpoint> ssdp_targets(const Config &config,
                                                  const engine::Environment &env) {
	const uint16_t port = config.ssdp_port ? config.ssdp_port : upnp::kSsdpPort;
	if (!config.ssdp_address.empty()) {
		std::error_code ec;
		auto a = net::parse_address_v4(config.ssdp_address, ec);
		if (!ec)
			return {{a, port}};
	}
	// Some routers answer only the multicast search, others only a unicast
	// one to their port 1900: send both. A loopback gateway (tests) gets the
	// unicast one only, so nothing leaves the machine.
	std::vector<asio::ip::udp::endpoint> targets{{env.gateway, port}};
	if (!env.gateway.is_loopback())
		targets.emplace_back(asio::ip::make_address_v4(upnp::kSsdpMulticastAddress), port);
	return targets;
}

namespace {

// What listens for the gateway's unsolicited messages, for as long as the
// clients it feeds live.
struct Listeners {
	std::shared_ptr<pcp::AnnounceListener> announce;
	std::shared_ptr<upnp::NotifyListener> notify;
};

} // namespace

engine::ClientFactory make_protocol_factory(asio::io_context &io, const Config &config,
                                            std::chrono::milliseconds mapping_timeout,
                                            std::chrono::milliseconds discover_timeout,
                                            const Logger &logger) {
	return [&io, config, mapping_timeout, discover_timeout,
	        logger](const engine::Environment &env) {
		engine::ClientSet set;
		if (!env.gateway.is_v4() || !env.local.is_v4())
			return set; // not an IPv4 network: nothing this factory can do
		const asio::ip::address_v4 gateway = env.gateway.to_v4();
		const asio::ip::address_v4 local = env.local.to_v4();
		auto listeners = std::make_shared<Listeners>();
		set.companions = listeners;
		const uint16_t server_port = config.pcp_port ? config.pcp_port : pcp::kDefaultServerPort;
		pcp::PcpClient *pcp_client = nullptr;
		pcp::NatPmpClient *natpmp_client = nullptr;
		if (config.protocols & kUsePcp) {
			pcp::PcpSettings s;
			s.gateway = gateway;
			s.server_port = server_port;
			s.local_address = local;
			s.mapping_timeout = mapping_timeout;
			auto c = std::make_unique<pcp::PcpClient>(io, s, logger);
			pcp_client = c.get();
			set.clients.push_back(std::move(c));
		}
		if (config.protocols & kUseNatPmp) {
			pcp::NatPmpSettings s;
			s.gateway = gateway;
			s.server_port = server_port;
			s.local_address = local;
			s.mapping_timeout = mapping_timeout;
			auto c = std::make_unique<pcp::NatPmpClient>(io, s, logger);
			natpmp_client = c.get();
			set.clients.push_back(std::move(c));
		}
		if (pcp_client || natpmp_client) {
			// Gateways announce restarts and address changes to 224.0.0.1:5350.
			// A loopback gateway (tests) sends them unicast to our loopback port.
			pcp::AnnounceSettings a;
			a.gateway = gateway;
			a.port = config.announce_port ? config.announce_port : pcp::kDefaultClientPort;
			a.join_multicast = !env.gateway.is_loopback();
			a.bind_address = env.gateway.is_loopback() ? asio::ip::address_v4::loopback()
			                                           : asio::ip::address_v4::any();
			a.interface_address = local;
			auto listener = std::make_shared<pcp::AnnounceListener>(io, a, logger);
			listener->set_handlers(pcp::announce_handlers_for(pcp_client, natpmp_client));
			if (auto r = listener->start(); !r)
				logger.debug("not listening for gateway announcements: {}", r.error().message());
			listeners->announce = std::move(listener);
		}
		if (config.protocols & kUseUpnp) {
			upnp::UpnpSettings s;
			s.gateway = gateway;
			s.local_address = local;
			s.ssdp_targets = ssdp_targets(config, env);
			s.discover_timeout = discover_timeout;
			s.mapping_timeout = mapping_timeout;
			auto client = std::make_unique<upnp::UpnpClient>(io, s, logger);
			// An IGD's reboot shows only in its advertisements: listen where
			// they go (239.255.255.250:1900), unless the SSDP target is pinned
			// (tests, unusual networks), which keeps plum off the group.
			if (config.ssdp_address.empty() && !env.gateway.is_loopback()) {
				upnp::NotifySettings n;
				n.gateway = gateway;
				n.bind_address = asio::ip::address_v4::any();
				n.interface_address = local;
				auto listener = std::make_shared<upnp::NotifyListener>(io, n, logger);
				listener->set_handler([upnp_client = client.get()](const upnp::SsdpMessage &m) {
					upnp_client->observe_advertisement(m);
				});
				if (auto r = listener->start(); !r)
					logger.debug("not listening for SSDP advertisements: {}", r.error().message());
				else
					listeners->notify = std::move(listener);
			}
			set.clients.push_back(std::move(client));
		}
		return set;
	};
}

engine::ClientFactory make_protocol_factory6(asio::io_context &io, const Config &config,
                                             std::chrono::milliseconds mapping_timeout,
                                             const Logger &logger) {
	return [&io, config, mapping_timeout, logger](const engine::Environment &env) {
		engine::ClientSet set;
		if (!(config.protocols & kUsePcp) || !env.gateway.is_v6())
			return set;
		pcp::PcpSettings s;
		s.gateway = env.gateway;
		s.server_port = config.pcp_port ? config.pcp_port : pcp::kDefaultServerPort;
		s.local_address = env.local;
		s.mapping_timeout = mapping_timeout;
		auto client = std::make_unique<pcp::PcpClient>(io, s, logger);
		// §14.1.3: a restarted server announces itself to ff02::1 port 5350,
		// on the link of its (usually link-local) address. A loopback gateway
		// (tests) sends unicast to our ::1 port instead.
		const bool loopback = env.gateway.is_loopback();
		pcp::AnnounceSettings a;
		a.gateway = env.gateway;
		a.port = config.announce_port ? config.announce_port : pcp::kDefaultClientPort;
		a.join_multicast = !loopback;
		a.bind_address = loopback ? asio::ip::address_v6::loopback() : asio::ip::address_v6::any();
		a.interface_index = static_cast<unsigned>(env.gateway.to_v6().scope_id());
		auto listener = std::make_shared<pcp::AnnounceListener>(io, a, logger);
		listener->set_handlers(pcp::announce_handlers_for(client.get(), nullptr));
		if (auto r = listener->start(); !r)
			logger.debug("not listening for IPv6 gateway announcements: {}", r.error().message());
		set.companions = listener;
		set.clients.push_back(std::move(client));
		return set;
	};
}

} // namespace plum::api
