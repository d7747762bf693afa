// UDA 1.1 §2.3 device description; IGD:1/IGD:2 device tree (see the header).
#include "upnp/description.hpp"

#include "upnp/xml.hpp"

#include <algorithm>
#include <optional>

namespace plum::upnp {

namespace {

constexpr std::string_view kIgdPrefix = "urn:schemas-upnp-org:device:InternetGatewayDevice:";
constexpr std::string_view kIpPrefix = "urn:schemas-upnp-org:service:WANIPConnection:";
constexpr std::string_view kPppPrefix = "urn:schemas-upnp-org:service:WANPPPConnection:";

// "<prefix><1..99>" ignoring case, or nothing. The digits-only tail also
// guarantees the type is safe to echo in a SOAPAction header.
std::optional<int> versioned(std::string_view type, std::string_view prefix) {
	if (type.size() <= prefix.size() || type.size() > prefix.size() + 2 ||
	    !xml::iequals(type.substr(0, prefix.size()), prefix))
		return std::nullopt;
	int v = 0;
	for (char c : type.substr(prefix.size())) {
		if (c < '0' || c > '9')
			return std::nullopt;
		v = v * 10 + (c - '0');
	}
	if (v == 0)
		return std::nullopt;
	return v;
}

// Order of preference: IGDv2's WANIPConnection, then v1's, then PPP.
int rank(const Service &s) noexcept {
	if (s.ppp)
		return 2;
	return s.version >= 2 ? 0 : 1;
}

std::string printable(std::string_view s) {
	std::string out;
	for (char c : s.substr(0, 200)) {
		const auto u = static_cast<unsigned char>(c);
		out += (u >= 0x20 && u < 0x7f) ? c : '?';
	}
	return out;
}

struct Walker {
	const http::Url &base;
	const http::Url &location;
	Description &out;
	bool igd_found = false;

	void device(const pugi::xml_node &dev, int depth) {
		if (depth > kMaxDeviceDepth)
			return;
		if (std::string udn = xml::text(xml::child(dev, "UDN"));
		    !udn.empty() && out.udns.size() < kMaxUdns)
			out.udns.push_back(std::move(udn));
		if (!igd_found) {
			if (auto v = versioned(xml::text(xml::child(dev, "deviceType")), kIgdPrefix)) {
				out.igd_version = *v;
				igd_found = true;
			}
		}
		for (pugi::xml_node s = xml::child(dev, "serviceList").first_child(); s;
		     s = s.next_sibling())
			if (xml::is(s, "service"))
				service(s);
		for (pugi::xml_node d = xml::child(dev, "deviceList").first_child(); d;
		     d = d.next_sibling())
			if (xml::is(d, "device"))
				device(d, depth + 1);
	}

	void service(const pugi::xml_node &node) {
		Service s;
		s.service_type = xml::text(xml::child(node, "serviceType"));
		if (!s.service_type.empty() && out.service_types.size() < kMaxServiceTypes)
			out.service_types.push_back(printable(s.service_type));
		if (auto v = versioned(s.service_type, kIpPrefix)) {
			s.version = *v;
		} else if (auto p = versioned(s.service_type, kPppPrefix)) {
			s.version = *p;
			s.ppp = true;
		} else {
			return; // not a service we use: not worth a word in the log
		}
		s.service_id = xml::text(xml::child(node, "serviceId"));
		const std::string control = xml::text(xml::child(node, "controlURL"));
		const std::string what = s.service_type + " (" + printable(s.service_id) + ")";
		if (control.empty()) {
			out.dropped.push_back(what + ": no controlURL");
			return;
		}
		auto url = http::resolve_url(base, control);
		if (!url) {
			out.dropped.push_back(what + ": controlURL '" + printable(control) +
			                      "' unusable: " + url.error().context());
			return;
		}
		if (url->host != location.host || url->port != location.port) {
			out.dropped.push_back(what + ": controlURL " + url->to_string() +
			                      " is not on the device at " + location.host_header());
			return;
		}
		if (out.services.size() >= kMaxServices) {
			out.dropped.push_back(what + ": over " + std::to_string(kMaxServices) +
			                      " usable services");
			return;
		}
		s.control_url = std::move(*url);
		out.services.push_back(std::move(s));
	}
};

} // namespace

Result<Description> parse_description(std::string_view text, const http::Url &location) {
	pugi::xml_document doc;
	if (auto loaded = xml::load(doc, text); !loaded)
		return loaded.error();

	const pugi::xml_node root = doc.document_element();
	if (!xml::is(root, "root"))
		return Error(Errc::malformed, "device description without <root>");
	const pugi::xml_node device = xml::child(root, "device");
	if (!device)
		return Error(Errc::malformed, "device description without <device>");

	Description d;
	// UDA 1.0 §2.1: relative URLs are resolved against URLBase when present.
	// A URLBase we cannot read is ignored (UDA 1.1 deprecates it anyway), and
	// one on another host makes every control URL fail the host check below.
	http::Url base = location;
	if (const std::string url_base = xml::text(xml::child(root, "URLBase")); !url_base.empty()) {
		if (auto u = http::parse_url(url_base))
			base = std::move(*u);
		else
			d.dropped.push_back("URLBase '" + printable(url_base) +
			                    "' ignored: " + u.error().context());
	}

	d.device_type = xml::text(xml::child(device, "deviceType"));
	d.friendly_name = xml::text(xml::child(device, "friendlyName"));
	d.manufacturer = xml::text(xml::child(device, "manufacturer"));
	d.model_name = xml::text(xml::child(device, "modelName"));
	d.model_number = xml::text(xml::child(device, "modelNumber"));

	Walker walker{base, location, d};
	walker.device(device, 1);

	if (!walker.igd_found) {
		// Not described as an IGD (some firmwares embed it oddly): infer the
		// version from the services so IGDv2 actions stay off v1 devices.
		d.igd_version = std::any_of(d.services.begin(), d.services.end(),
		                            [](const Service &s) { return !s.ppp && s.version >= 2; })
		                    ? 2
		                    : 1;
	}

	if (d.services.empty()) {
		std::string why = "no usable WANIPConnection or WANPPPConnection service";
		for (const auto &reason : d.dropped)
			why += "; " + reason;
		return Error(Errc::unsupported, std::move(why));
	}
	std::stable_sort(d.services.begin(), d.services.end(),
	                 [](const Service &a, const Service &b) { return rank(a) < rank(b); });
	return d;
}

} // namespace plum::upnp
