// UPnP Device Architecture 1.1 §2.3 device description, as an Internet
// Gateway Device (IGD:1 / IGD:2) publishes it at the SSDP LOCATION.
//
//   <root xmlns="urn:schemas-upnp-org:device-1-0">
//     <URLBase>http://192.168.1.1:5000</URLBase>          (optional, UDA 1.0)
//     <device>  deviceType  urn:...:device:InternetGatewayDevice:N
//       <deviceList><device>  WANDevice:N
//         <deviceList><device>  WANConnectionDevice:N
//           <serviceList><service>
//             <serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType>
//             <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
//             <controlURL>/ctl/IPConn</controlURL>  ...
//
// Only what a port-mapping client needs is kept: the WAN*Connection services
// with their control URLs resolved and checked to stay on the device that
// served the description.
#pragma once

#include "http/url.hpp"
#include "plum/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace plum::upnp {

struct Service {
	std::string service_type; // as the device spells it, e.g. urn:...:WANIPConnection:2
	int version = 1;          // from the type's ":N"; IGDv2 actions need >= 2
	bool ppp = false;         // WANPPPConnection
	http::Url control_url;    // absolute, resolved, same host:port as the description
	std::string service_id;
};

struct Description {
	std::string friendly_name, manufacturer, model_name, model_number;
	std::string device_type; // of the root device
	int igd_version = 1;     // from the InternetGatewayDevice:N found in the tree
	// WANIPConnection:2, then :1, then WANPPPConnection:1; duplicates kept in
	// document order, so the client can try the next one.
	std::vector<Service> services;
	// Every serviceType in the tree, in document order (for `plumc probe`),
	// at most kMaxServiceTypes of them.
	std::vector<std::string> service_types;
	// For the log: why each WAN*Connection service missing from services was
	// dropped (no, bad or foreign controlURL), and an unreadable URLBase.
	std::vector<std::string> dropped;
	// Every device's UDN in the tree ("uuid:..."), at most kMaxDeviceDepth *
	// 4 of them: whose advertisements are this IGD's.
	std::vector<std::string> udns;
};

// How deep the deviceList nesting may go (the IGD tree uses 3 levels).
inline constexpr int kMaxDeviceDepth = 8;
// How many serviceTypes Description::service_types keeps (an IGD has ~6).
inline constexpr size_t kMaxServiceTypes = 32;
// How many usable WAN*Connection services are kept: the probe may ask each
// for its status, one SOAP call apiece, so a description listing hundreds
// must not make a probe of hundreds of calls. Real IGDs have one to three.
inline constexpr size_t kMaxServices = 8;
inline constexpr size_t kMaxUdns = kMaxDeviceDepth * 4;

// location: the URL the description was fetched from. controlURLs are
// resolved against <URLBase> when present, else against location (RFC 3986
// §5.2: absolute, absolute-path and relative forms, "ctl/IPConn" included).
// A controlURL whose host:port differs from location's is dropped: an answer
// pointing elsewhere is an attack or a misconfiguration.
// Errors: Errc::too_large (over 64 KiB), Errc::malformed (not XML, a
// DOCTYPE, no <root>/<device>), Errc::unsupported (no usable WAN*Connection
// service; the context says why).
Result<Description> parse_description(std::string_view xml, const http::Url &location);

} // namespace plum::upnp
