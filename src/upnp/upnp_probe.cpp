// The UPnP probe: SSDP search (or an advertised LOCATION) → description →
// GetStatusInfo of each service until one is Connected → GetExternalIPAddress.
#include "upnp/upnp_ops.hpp"

#include <algorithm>

namespace plum::upnp {

using namespace detail;

// The discover timeout bounds finding the gateway. Once it answered SSDP,
// each request of the probe gets what is left of that, but at least a full
// call's time; the probe's deadline moves out to cover it.
milliseconds UpnpClient::probe_call_time(const std::shared_ptr<ProbeOp> &op) {
	const auto left = std::chrono::duration_cast<milliseconds>(
	    op->started + settings_.discover_timeout - Clock::now());
	const milliseconds t = at_least(left, call_timeout());
	const auto end = Clock::now() + t;
	if (end > op->deadline.expiry())
		arm_probe_deadline(op, end);
	return t;
}

void UpnpClient::arm_probe_deadline(const std::shared_ptr<ProbeOp> &op, Clock::time_point when) {
	std::weak_ptr<char> alive = alive_;
	op->deadline.expires_at(when);
	op->deadline.async_wait([this, alive, op](std::error_code ec) {
		if (ec || alive.expired() || op->finished)
			return;
		const Error e(Errc::timeout, op->phase_name());
		logger_.debug("UPnP {}: probe failed: {}", gateway_name(), e.message());
		count_failure(e);
		complete<engine::ProbeResult>(op, e);
	});
}

void UpnpClient::probe(std::function<void(Result<engine::ProbeResult>)> done) {
	auto op = std::make_shared<ProbeOp>(io_, std::move(done));
	track(op);
	std::weak_ptr<char> alive = alive_;
	arm_probe_deadline(op, op->started + settings_.discover_timeout);

	if (advertised_) {
		SsdpHit hit = std::move(*advertised_);
		advertised_.reset();
		op->advertised = true;
		logger_.debug("UPnP {}: probing the advertised {}", gateway_name(),
		              hit.location.to_string());
		asio::post(io_, [this, alive, op, hit = std::move(hit)]() mutable {
			if (!alive.expired())
				probe_ssdp_done(op, std::move(hit));
		});
		return;
	}
	probe_search(op);
}

// An advertised LOCATION is only a hint (a forged ssdp:alive can name
// http://<gateway>:1/): when it fails, the probe searches as usual, so a
// bad advertisement never keeps UPnP from being probed again.
bool UpnpClient::probe_fall_back(const std::shared_ptr<ProbeOp> &op, const Error &why) {
	if (!op->advertised || op->finished)
		return false;
	op->advertised = false;
	logger_.info("UPnP {}: the advertised LOCATION failed ({}): searching", gateway_name(),
	             why.message());
	op->phase = ProbeOp::Phase::Ssdp;
	op->started = Clock::now();
	arm_probe_deadline(op, op->started + settings_.discover_timeout);
	probe_search(op);
	return true;
}

void UpnpClient::probe_search(const std::shared_ptr<ProbeOp> &op) {
	std::weak_ptr<char> alive = alive_;
	SsdpSearchConfig config;
	config.targets = settings_.ssdp_targets;
	config.bind_address = settings_.local_address;
	// Strict: only the gateway itself may answer. A LAN neighbour that
	// claims to be an IGD is not the router whose NAT we cross.
	config.accept_from = [gw = settings_.gateway](const asio::ip::address &a) {
		return a.is_v4() && a.to_v4() == gw;
	};
	config.timeout = settings_.discover_timeout;
	op->search = std::make_unique<SsdpSearch>(io_, std::move(config), logger_);
	++counters_.requests;
	op->search->start([this, alive, op](Result<SsdpHit> hit) {
		if (alive.expired())
			return;
		probe_ssdp_done(op, std::move(hit));
	});
}

void UpnpClient::probe_ssdp_done(const std::shared_ptr<ProbeOp> &op, Result<SsdpHit> hit) {
	if (op->finished)
		return;
	if (!hit) {
		const Error e = hit.error() == Errc::timeout ? Error(Errc::timeout, "no IGD answered SSDP")
		                                             : hit.error();
		logger_.debug("UPnP {}: probe failed: {}", gateway_name(), e.message());
		count_failure(e);
		return complete<engine::ProbeResult>(op, e);
	}
	// SsdpSearch checked both already; the description is fetched only
	// from the gateway itself, so check again right where it matters.
	const bool from_gateway = hit->responder.is_v4() && hit->responder.to_v4() == settings_.gateway;
	if (!from_gateway || hit->location.host != hit->responder.to_string()) {
		const Error e(Errc::untrusted, "LOCATION " + hit->location.to_string() + " from " +
		                                   hit->responder.to_string() + " is not the gateway");
		if (probe_fall_back(op, e))
			return;
		logger_.warn("UPnP {}: probe failed: {}", gateway_name(), e.message());
		return complete<engine::ProbeResult>(op, e);
	}
	if (!hit->usn.empty())
		op->usn = hit->usn;
	logger_.debug("UPnP {}: SSDP answer {} ({}), description at {}", gateway_name(), hit->st,
	              hit->server, hit->location.to_string());
	if (hit->boot_id)
		boot_id_ = hit->boot_id;
	// The gateway is there: the engine waits for the rest of the probe
	// rather than report FAILURE while a slow router works on it.
	if (events_.gateway_answered)
		events_.gateway_answered();

	op->phase = ProbeOp::Phase::Description;
	http::Request get;
	get.url = hit->location;
	http::Limits limits = settings_.http_limits;
	limits.total_timeout = probe_call_time(op);
	limits.connect_timeout = std::min(limits.connect_timeout, limits.total_timeout);
	std::weak_ptr<char> alive = alive_;
	++counters_.requests;
	op->get = http::async_request(
	    io_, std::move(get), limits,
	    [this, alive, op, location = hit->location](Result<http::Response> reply) {
		    if (alive.expired())
			    return;
		    probe_description_done(op, location, std::move(reply));
	    });
}

void UpnpClient::probe_description_done(const std::shared_ptr<ProbeOp> &op,
                                        const http::Url &location, Result<http::Response> reply) {
	if (op->finished)
		return;
	const std::string where = "description at " + location.to_string();
	Result<Description> desc = Error(Errc::failed);
	if (!reply) {
		count_failure(reply.error());
		desc = transport_error(reply.error(), where);
	} else if (reply->status != 200)
		desc = Error(http::status_error_code(reply->status), where);
	else
		desc = parse_description(reply->body, location);
	if (reply)
		counters_.count_error(desc ? Error(Errc::ok) : desc.error());
	if (!desc) {
		if (probe_fall_back(op, desc.error()))
			return;
		logger_.debug("UPnP {}: probe failed: {}", gateway_name(), desc.error().message());
		return complete<engine::ProbeResult>(op, desc.error());
	}
	for (const auto &why : desc->dropped)
		logger_.debug("UPnP {}: description: {}", gateway_name(), why);
	op->desc = std::move(*desc);
	if (op->desc.services.size() == 1) {
		op->chosen = 0;
		return probe_external_ip(op);
	}
	op->phase = ProbeOp::Phase::Status;
	probe_next_status(op);
}

// With several WAN*Connection services (a router with an IP and a PPP
// uplink, or two WAN devices), only a connected one can map anything. They
// are asked in preference order; the first Connected wins.
void UpnpClient::probe_next_status(const std::shared_ptr<ProbeOp> &op) {
	if (op->next_status >= op->desc.services.size()) {
		logger_.debug("UPnP {}: no service says Connected; using the first", gateway_name());
		op->chosen = 0;
		return probe_external_ip(op);
	}
	const size_t index = op->next_status++;
	const Service &s = op->desc.services[index];
	soap(
	    op, s, "GetStatusInfo", build_get_status_info(s.service_type), probe_call_time(op),
	    [this, op, index](Result<SoapResponse> r) {
		    const Service &svc = op->desc.services[index];
		    Result<StatusInfo> info = r ? status_info_from(*r) : Result<StatusInfo>(r.error());
		    if (info && info->connection_status == "Connected") {
			    op->chosen = index;
			    return probe_external_ip(op);
		    }
		    logger_.debug("UPnP {}: {} at {}: {}", gateway_name(), svc.service_type,
		                  svc.control_url.to_string(),
		                  info ? info->connection_status : info.error().message());
		    probe_next_status(op);
	    },
	    true);
}

void UpnpClient::probe_external_ip(const std::shared_ptr<ProbeOp> &op) {
	op->phase = ProbeOp::Phase::ExternalIp;
	const Service &s = op->desc.services[op->chosen];
	const auto sent = Clock::now();
	soap(
	    op, s, "GetExternalIPAddress", build_get_external_ip(s.service_type), probe_call_time(op),
	    [this, op, sent](Result<SoapResponse> r) {
		    auto ip = r ? external_ip_from(*r) : Result<asio::ip::address_v4>(r.error());
		    // An empty address or 0.0.0.0 (Errc::failed) is what a router says
		    // while its WAN link is down: it still speaks UPnP and keeps
		    // mappings, so the probe succeeds with the address unknown (as a
		    // PCP probe does) and a later map() asks again.
		    const bool wan_down = !ip && ip.error() == Errc::failed;
		    if (!ip && !wan_down) {
			    logger_.debug("UPnP {}: probe failed: {}", gateway_name(), ip.error().message());
			    return complete<engine::ProbeResult>(op, ip.error());
		    }
		    const Service &svc = op->desc.services[op->chosen];
		    engine::ProbeResult out;
		    out.external_address =
		        ip ? asio::ip::address(*ip) : asio::ip::address(asio::ip::address_v4::any());
		    out.rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent);
		    out.detail = op->desc.friendly_name + " " + svc.service_type;
		    engine::UpnpDevice device;
		    device.friendly_name = op->desc.friendly_name;
		    device.manufacturer = op->desc.manufacturer;
		    device.model_name = op->desc.model_name;
		    device.model_number = op->desc.model_number;
		    device.device_type = op->desc.device_type;
		    device.igd_version = op->desc.igd_version;
		    device.service_type = svc.service_type;
		    device.control_url = svc.control_url.to_string();
		    device.services = op->desc.service_types;
		    out.upnp = std::move(device);
		    logger_.debug("UPnP {}: {} at {}, external address {}, rtt {} us", gateway_name(),
		                  out.detail, svc.control_url.to_string(),
		                  ip ? ip->to_string() : ip.error().message(), out.rtt.count());
		    device_uuids_ = op->desc.udns;
		    if (!op->usn.empty())
			    device_uuids_.push_back(op->usn.substr(0, op->usn.find("::")));
		    description_ = std::move(op->desc);
		    service_index_ = op->chosen;
		    if (ip)
			    learn_external(*ip);
		    else
			    external_.reset();
		    complete<engine::ProbeResult>(op, std::move(out));
	    },
	    true);
}

} // namespace plum::upnp
