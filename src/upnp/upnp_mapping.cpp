// UPnP mappings: AddPortMapping / AddAnyPortMapping with the router's
// refusals that have a way out (lease, conflict, port rules), and
// DeletePortMapping.
#include "upnp/upnp_ops.hpp"

#include <algorithm>

namespace plum::upnp {

using namespace detail;

// Every refusal with a known way out costs a request; this bounds a map()
// whatever the router answers (1 + 725 + 718/AddAny + 4 ports + 724/716).
constexpr int kMaxMapAttempts = 10;

void UpnpClient::map(const engine::MapRequest &request,
                     std::function<void(Result<engine::MapGrant>)> done) {
	auto op = std::make_shared<MapOp>(io_, std::move(done));
	track(op);
	const Service *s = service();
	if (!s)
		return complete<engine::MapGrant>(op,
		                                  Error(Errc::unsupported, "no IGD service: probe first"));
	if (request.internal_port == 0)
		return complete<engine::MapGrant>(op, Error(Errc::invalid_argument, "internal port 0"));
	// NewInternalClient must be our own address: 0.0.0.0 would be refused
	// or, worse, read as "any host" by a lax router.
	if (settings_.local_address.is_unspecified())
		return complete<engine::MapGrant>(
		    op, Error(Errc::invalid_argument, "no local address for UPnP"));
	op->request = request;
	op->service = *s;
	op->lease = permanent_only_ ? 0 : std::min(request.lifetime, kMaxLease);
	// External port 0 ("any"): the internal port is as good a first guess
	// as any, and the one applications expect.
	op->external_port = request.external_port ? request.external_port : request.internal_port;
	map_add(op);
}

namespace {

PortMappingArgs mapping_args(const engine::MapRequest &request, uint16_t external_port,
                             uint32_t lease, const asio::ip::address_v4 &local) {
	PortMappingArgs a;
	a.remote_host = "";
	a.external_port = external_port;
	a.protocol = protocol_name(request.protocol);
	a.internal_port = request.internal_port;
	a.internal_client = local.to_string();
	a.enabled = true;
	a.description = request.description;
	a.lease_duration = lease;
	return a;
}

} // namespace

void UpnpClient::map_add(const std::shared_ptr<MapOp> &op) {
	++op->attempts;
	op->tried_ports.push_back(op->external_port);
	const auto args =
	    mapping_args(op->request, op->external_port, op->lease, settings_.local_address);
	soap(op, op->service, "AddPortMapping", build_add_port_mapping(op->service.service_type, args),
	     call_timeout(), [this, op](Result<SoapResponse> r) {
		     if (!r)
			     return map_refused(op, r.error(), false);
		     map_granted(op, op->external_port);
	     });
}

// WANIPConnection:2 §2.5.16: the router grants the requested port if free,
// else one of its choosing, returned as NewReservedPort.
void UpnpClient::map_add_any(const std::shared_ptr<MapOp> &op) {
	++op->attempts;
	const auto args =
	    mapping_args(op->request, op->external_port, op->lease, settings_.local_address);
	soap(op, op->service, "AddAnyPortMapping",
	     build_add_any_port_mapping(op->service.service_type, args), call_timeout(),
	     [this, op](Result<SoapResponse> r) {
		     if (!r)
			     return map_refused(op, r.error(), true);
		     auto port = reserved_port_from(*r);
		     if (!port) {
			     logger_.debug("UPnP {}: AddAnyPortMapping {} {}: {}", gateway_name(),
			                   protocol_name(op->request.protocol), op->request.internal_port,
			                   port.error().message());
			     return complete<engine::MapGrant>(op, port.error());
		     }
		     map_granted(op, *port);
	     });
}

void UpnpClient::map_refused(const std::shared_ptr<MapOp> &op, const Error &error, bool any) {
	const char *action = any ? "AddAnyPortMapping" : "AddPortMapping";
	const char *proto = protocol_name(op->request.protocol);
	logger_.debug("UPnP {}: {} {} {}->{}: {}", gateway_name(), action, proto, op->external_port,
	              op->request.internal_port, error.message());
	const auto retry = [&] { return any ? map_add_any(op) : map_add(op); };
	if (op->attempts < kMaxMapAttempts) {
		if (is(error, UpnpError::OnlyPermanentLeasesSupported) && op->lease != 0) {
			// Remembered for every later map: asking for a lease again
			// would only cost another refusal each time.
			if (!permanent_only_)
				logger_.info("UPnP {}: the router only supports permanent leases", gateway_name());
			permanent_only_ = true;
			op->lease = 0;
			return retry();
		}
		// IGDv2 lets the router pick a free port; IGDv1 leaves it to us.
		const bool v2 = op->service.version >= 2;
		const bool conflict = is(error, UpnpError::ConflictInMappingEntry);
		// Declared IGDv2, but without AddAnyPortMapping: pick ports
		// ourselves as on IGDv1.
		const bool no_any = any && (is(error, UpnpError::InvalidAction) ||
		                            is(error, UpnpError::OptionalActionNotImplemented));
		if (no_any)
			op->any_failed = true;
		if (conflict || no_any) {
			if (!any && v2 && !op->any_failed)
				return map_add_any(op);
			if (op->conflict_tries < kMaxConflictTries) {
				++op->conflict_tries;
				op->external_port = random_port(*op);
				return map_add(op);
			}
		}
		if (is(error, UpnpError::SamePortValuesRequired) && !op->same_port_tried) {
			op->same_port_tried = true;
			op->external_port = op->request.internal_port;
			return map_add(op);
		}
		if ((is(error, UpnpError::WildCardNotPermittedInExtPort) ||
		     is(error, UpnpError::ExternalPortOnlySupportsWildcard)) &&
		    !op->wildcard_tried) {
			op->wildcard_tried = true;
			op->external_port = op->request.internal_port;
			return map_add(op);
		}
	}
	logger_.debug("UPnP {}: map {} {} failed: {}", gateway_name(), proto, op->request.internal_port,
	              error.message());
	complete<engine::MapGrant>(op, error);
}

uint16_t UpnpClient::random_port(const MapOp &op) {
	std::uniform_int_distribution<int> dist(1024, 65535);
	uint16_t port = 0;
	// Bounded: a repeat is unlikely and harmless (one more 718).
	for (int i = 0; i < 8; ++i) {
		port = uint16_t(dist(random_));
		if (std::find(op.tried_ports.begin(), op.tried_ports.end(), port) == op.tried_ports.end())
			break;
	}
	return port;
}

void UpnpClient::map_granted(const std::shared_ptr<MapOp> &op, uint16_t external_port) {
	const auto finish = [this, op, external_port] {
		engine::MapGrant grant;
		grant.external_address = external_ ? asio::ip::address(*external_)
		                                   : asio::ip::address(asio::ip::address_v4::any());
		grant.external_port = external_port;
		grant.lifetime = op->lease;
		grant.internal_port = op->request.internal_port;
		logger_.debug("UPnP {}: {} {} -> {}:{}, lease {} s", gateway_name(),
		              protocol_name(op->request.protocol), op->request.internal_port,
		              grant.external_address.to_string(), external_port, op->lease);
		held_.emplace(protocol_name(op->request.protocol), external_port);
		complete<engine::MapGrant>(op, std::move(grant));
	};
	if (external_)
		return finish();
	// The grant carries the external address: learn it now. The mapping
	// exists either way, so a failure here does not fail the map.
	soap(op, op->service, "GetExternalIPAddress", build_get_external_ip(op->service.service_type),
	     call_timeout(), [this, finish](Result<SoapResponse> r) {
		     auto ip = r ? external_ip_from(*r) : Result<asio::ip::address_v4>(r.error());
		     if (ip)
			     learn_external(*ip);
		     else
			     logger_.info("UPnP {}: external address unknown: {}", gateway_name(),
			                  ip.error().message());
		     finish();
	     });
}

// ---------------------------------------------------------------------------
// unmap

bool UpnpClient::withdraw_map(const engine::MapRequest &request) {
	for (const auto &[id, op] : ops_) {
		auto map = std::dynamic_pointer_cast<MapOp>(op);
		if (!map || map->finished || map->request.nonce != request.nonce ||
		    map->request.internal_port != request.internal_port ||
		    map->request.protocol != request.protocol)
			continue;
		if (map->sent)
			return false;
		complete<engine::MapGrant>(map, Error(Errc::cancelled, "the mapping was deleted"));
		return true;
	}
	return false;
}

void UpnpClient::unmap(const engine::MapRequest &request, std::function<void(Result<void>)> done) {
	auto op = std::make_shared<Pending<void>>(io_, std::move(done));
	track(op);
	const Service *s = service();
	if (!s)
		return complete<void>(op, Error(Errc::unsupported, "no IGD service: probe first"));
	const char *proto = protocol_name(request.protocol);
	soap(op, *s, "DeletePortMapping",
	     build_delete_port_mapping(s->service_type, "", request.external_port, proto),
	     call_timeout(), [this, op, request, proto](Result<SoapResponse> r) {
		     if (!r && !is(r.error(), UpnpError::NoSuchEntryInArray)) {
			     logger_.debug("UPnP {}: delete {} {} failed: {}", gateway_name(), proto,
			                   request.external_port, r.error().message());
			     return complete<void>(op, r.error());
		     }
		     logger_.debug("UPnP {}: deleted {} {}{}", gateway_name(), proto, request.external_port,
		                   r ? "" : " (already gone)");
		     held_.erase({proto, request.external_port});
		     complete<void>(op, Result<void>());
	     });
}

} // namespace plum::upnp
