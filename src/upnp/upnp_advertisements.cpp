// What the IGD says without being asked: its SSDP NOTIFYs, read for a
// reboot, and confirmed over TCP before the mappings are made again.
#include "upnp/upnp_ops.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace plum::upnp {

using namespace detail;

bool UpnpClient::is_igd_usn(const std::string &usn) const {
	const std::string uuid = usn.substr(0, usn.find("::"));
	if (uuid.empty())
		return false;
	return std::any_of(device_uuids_.begin(), device_uuids_.end(),
	                   [&](const std::string &u) { return iequals(u, uuid); });
}

void UpnpClient::observe_advertisement(const SsdpMessage &message) {
	if (message.kind != SsdpMessage::Kind::Notify)
		return;
	// Another UPnP device on the router (a media server, a printer) has its
	// own boots and goodbyes; so has a device we never probed.
	if (!is_igd_usn(message.usn))
		return;
	if (iequals(message.nts, "ssdp:byebye")) {
		said_byebye_ = true;
		return;
	}
	if (!iequals(message.nts, "ssdp:alive"))
		return; // ssdp:update announces a future BOOTID, not a reboot
	const bool new_boot = message.boot_id && boot_id_ && *message.boot_id != *boot_id_;
	const bool back = said_byebye_;
	if (message.boot_id)
		boot_id_ = message.boot_id;
	said_byebye_ = false;
	if (!new_boot && !back)
		return;
	std::optional<SsdpHit> advertised;
	if (auto url = http::parse_url(message.location))
		advertised = SsdpHit{asio::ip::address(settings_.gateway),
		                     std::move(*url),
		                     message.st,
		                     message.server,
		                     message.boot_id,
		                     message.usn};
	logger_.info("UPnP {}: the device says it {} ({})", gateway_name(),
	             new_boot ? "rebooted" : "is back after saying goodbye",
	             new_boot ? "new BOOTID " + std::to_string(*message.boot_id) : message.st);
	confirm_reboot(std::move(advertised));
}

// Nothing held: nothing to lose or to flood, take the advertisement as it
// is. Else ask the router over TCP about one mapping we hold.
void UpnpClient::confirm_reboot(std::optional<SsdpHit> advertised) {
	const Service *s = service();
	if (held_.empty() || !s)
		return reboot_confirmed(std::move(advertised));
	if (!confirm_.try_start())
		return;
	++confirmations_;
	const auto [proto, port] = *held_.begin();
	// The gate reopens when the operation completes, cancelled included.
	std::weak_ptr<char> alive = alive_;
	auto op = std::make_shared<Pending<void>>(io_, [this, alive](Result<void>) {
		if (!alive.expired())
			confirm_.done();
	});
	track(op);
	soap(
	    op, *s, "GetSpecificPortMappingEntry",
	    build_get_specific_port_mapping_entry(s->service_type, "", port, proto), call_timeout(),
	    [this, op, proto = proto, port = port,
	     advertised = std::move(advertised)](Result<SoapResponse> r) mutable {
		    complete<void>(op, Result<void>());
		    if (r) {
			    logger_.info("UPnP {}: {} {} is still mapped: no reboot, advertisement ignored",
			                 gateway_name(), proto, port);
			    return;
		    }
		    // Gone (714), or the device no longer where it was: either way
		    // its mappings must be made again, after a probe if need be.
		    logger_.info("UPnP {}: reboot confirmed: {} {}: {}", gateway_name(), proto, port,
		                 r.error().message());
		    reboot_confirmed(std::move(advertised));
	    },
	    true);
}

void UpnpClient::reboot_confirmed(std::optional<SsdpHit> advertised) {
	held_.clear();
	if (advertised)
		advertised_ = std::move(advertised);
	if (events_.gateway_restarted)
		events_.gateway_restarted();
}

} // namespace plum::upnp
