// SSDP, the discovery part of the UPnP Device Architecture (UDA 1.1 §1.3,
// UDA 2.0 §1.3): HTTP-shaped messages in single UDP datagrams.
//
//   M-SEARCH * HTTP/1.1            (we send, to 239.255.255.250:1900 or unicast)
//   HOST: 239.255.255.250:1900
//   MAN: "ssdp:discover"
//   MX: 1                          seconds a device may wait before answering
//   ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2
//
//   HTTP/1.1 200 OK                (search response, unicast back to us)
//   CACHE-CONTROL: max-age=120
//   LOCATION: http://192.168.1.1:5000/rootDesc.xml
//   ST: <the target searched>   USN: uuid:...::<target>   SERVER: OS UPnP/1.1 product
//
//   NOTIFY * HTTP/1.1              (advertisement, multicast)
//   NT: <type>  NTS: ssdp:alive | ssdp:byebye | ssdp:update  USN, LOCATION, ...
//
// Pure codec: no sockets, clocks or logging.
#pragma once

#include "core/bytes.hpp"
#include "plum/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace plum::upnp {

inline constexpr std::string_view kSsdpMulticastAddress = "239.255.255.250";
inline constexpr uint16_t kSsdpPort = 1900;
// A datagram larger than this is not SSDP (UDA keeps messages well under a
// UDP datagram of ~1.4 KB; 8 KiB leaves room for verbose devices).
inline constexpr size_t kMaxSsdpDatagram = 8192;
inline constexpr size_t kMaxSsdpHeaders = 64;

// The M-SEARCH for one target. mx is clamped to UDA's 1..5; CR and LF are
// removed from the arguments (they come from constants, but a header must
// never be injectable).
std::string build_msearch(std::string_view search_target, int mx_seconds,
                          std::string_view host_header = "239.255.255.250:1900");

struct SsdpMessage {
	enum class Kind { SearchResponse, Notify } kind = Kind::SearchResponse;
	std::string location; // a valid http URL (parse_url accepts it), or empty for byebye
	std::string st;       // ST of a search response, NT of a NOTIFY
	std::string usn;
	std::string server;
	std::string nts; // NOTIFY only: ssdp:alive, ssdp:byebye or ssdp:update
	std::optional<uint32_t> max_age;
	// BOOTID.UPNP.ORG (UDA 1.1 §1.2.2): changes each time the device boots;
	// absent from UDA 1.0 devices. A value that is not a 31-bit number is
	// ignored rather than fatal (some devices send garbage in extra headers).
	std::optional<uint32_t> boot_id;
};

// Parses a search response or a NOTIFY. Headers are case-insensitive. Errors:
// Errc::too_large (datagram or header count over the bounds), Errc::unsupported
// (an M-SEARCH or a non-200 status: not for a control point), Errc::malformed
// (anything else, including a missing ST/NT/NTS/LOCATION, a LOCATION that is
// not an http URL, or two different values for one of the fields we use).
Result<SsdpMessage> parse_ssdp(ByteSpan datagram);

// The targets searched, in order of preference: IGD:2, IGD:1, then the
// WAN connection services, because some routers answer only for a service.
std::span<const std::string_view> igd_search_targets();

} // namespace plum::upnp
