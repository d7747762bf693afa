#include "net/netlink_route.hpp"

#include "net/address.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>

namespace plum::net::netlink {

namespace {

// Native-endian structures out of the dump, through the one cursor.
template <class T> bool read(ByteReader &r, T &out) {
	const ByteSpan s = r.span(sizeof(T));
	if (s.size() != sizeof(T))
		return false;
	std::memcpy(&out, s.data(), sizeof(T));
	return true;
}

uint32_t u32_of(ByteSpan s) {
	uint32_t v = 0;
	if (s.size() == sizeof v)
		std::memcpy(&v, s.data(), sizeof v);
	return v;
}

asio::ip::address address_of(int family, ByteSpan s) {
	if (family == AF_INET && s.size() == 4) {
		asio::ip::address_v4::bytes_type b;
		std::memcpy(b.data(), s.data(), 4);
		return asio::ip::address_v4(b);
	}
	if (family == AF_INET6 && s.size() == 16) {
		asio::ip::address_v6::bytes_type b;
		std::memcpy(b.data(), s.data(), 16);
		return asio::ip::address_v6(b);
	}
	return {};
}

// Calls `message(type, payload)` for each message up to NLMSG_DONE.
Result<void> walk(ByteSpan dump, const std::function<bool(uint16_t, ByteSpan)> &message) {
	ByteReader r(dump);
	while (!r.at_end()) {
		nlmsghdr h{};
		if (!read(r, h) || h.nlmsg_len < sizeof h || h.nlmsg_len - sizeof h > r.remaining())
			return Error(Errc::malformed, "netlink message overruns the dump");
		const ByteSpan payload = r.span(h.nlmsg_len - sizeof h);
		r.skip(std::min<size_t>(NLMSG_ALIGN(h.nlmsg_len) - h.nlmsg_len, r.remaining()));
		if (h.nlmsg_type == NLMSG_DONE)
			return {};
		if (h.nlmsg_type == NLMSG_ERROR) {
			ByteReader e(payload);
			int32_t err = 0;
			if (!read(e, err))
				return Error(Errc::malformed, "short netlink error");
			if (err == 0)
				continue; // an acknowledgement
			return Error(std::error_code(-err, std::generic_category()), "netlink");
		}
		if (!message(h.nlmsg_type, payload))
			return Error(Errc::malformed, "netlink message shorter than its header");
	}
	return Error(Errc::truncated, "netlink dump without NLMSG_DONE");
}

// Calls `attribute(type, value)` for each rtattr in `attrs`.
bool each_attribute(ByteSpan attrs, const std::function<void(uint16_t, ByteSpan)> &attribute) {
	ByteReader r(attrs);
	while (r.remaining() >= sizeof(rtattr)) {
		rtattr a{};
		read(r, a);
		if (a.rta_len < sizeof a || a.rta_len - sizeof a > r.remaining())
			return false;
		attribute(a.rta_type, r.span(a.rta_len - sizeof a));
		r.skip(std::min<size_t>(RTA_ALIGN(a.rta_len) - a.rta_len, r.remaining()));
	}
	return true;
}

// Parses each message of type `want` of a dump: its fixed header, then
// `fill(header, attributes, out)`, which reads the attributes into out and
// says whether they were well-formed.
template <class Header, class Out, class Fill>
Result<std::vector<Out>> parse_each(ByteSpan dump, uint16_t want, Fill fill) {
	std::vector<Out> out;
	auto done = walk(dump, [&](uint16_t type, ByteSpan payload) {
		if (type != want)
			return true;
		ByteReader r(payload);
		Header h{};
		if (!read(r, h))
			return false;
		Out o;
		if (!fill(h, r.rest(), o))
			return false;
		out.push_back(o);
		return true;
	});
	if (!done)
		return done.error();
	return out;
}

// One RTM_NEWROUTE's attributes; false when they are malformed.
bool fill_route(const rtmsg &m, ByteSpan attrs, Route &route) {
	route.family = m.rtm_family;
	route.dst_len = m.rtm_dst_len;
	route.type = m.rtm_type;
	route.table = m.rtm_table;
	return each_attribute(attrs, [&](uint16_t a, ByteSpan v) {
		switch (a) {
		case RTA_GATEWAY: route.gateway = address_of(m.rtm_family, v); break;
		case RTA_OIF: route.oif = u32_of(v); break;
		case RTA_PRIORITY: route.priority = u32_of(v); break;
		case RTA_TABLE: route.table = u32_of(v); break;
		default: break;
		}
	});
}

// One RTM_NEWADDR's attributes; false when they are malformed.
bool fill_address(const ifaddrmsg &m, ByteSpan attrs, Address &a) {
	a.family = m.ifa_family;
	a.prefix_len = m.ifa_prefixlen;
	a.index = m.ifa_index;
	a.scope = m.ifa_scope;
	a.flags = m.ifa_flags;
	asio::ip::address local, address;
	const bool ok = each_attribute(attrs, [&](uint16_t t, ByteSpan v) {
		switch (t) {
		case IFA_LOCAL: local = address_of(m.ifa_family, v); break;
		case IFA_ADDRESS: address = address_of(m.ifa_family, v); break;
		case IFA_FLAGS: a.flags = u32_of(v); break;
		default: break;
		}
	});
	// On a point-to-point IPv4 link IFA_ADDRESS is the peer's.
	a.address = !local.is_unspecified() ? local : address;
	return ok;
}

} // namespace

Result<std::vector<Route>> parse_routes(ByteSpan dump) {
	return parse_each<rtmsg, Route>(dump, RTM_NEWROUTE, fill_route);
}

Result<std::vector<Address>> parse_addresses(ByteSpan dump) {
	return parse_each<ifaddrmsg, Address>(dump, RTM_NEWADDR, fill_address);
}

namespace {

const Route *best_default(const std::vector<Route> &routes, int family) {
	const Route *best = nullptr;
	for (const auto &r : routes) {
		if (r.family != family || r.dst_len != 0 || r.type != RTN_UNICAST ||
		    r.table != RT_TABLE_MAIN || r.gateway.is_unspecified())
			continue;
		if (!best || r.priority < best->priority)
			best = &r;
	}
	return best;
}

} // namespace

Result<asio::ip::address_v4> default_gateway(const std::vector<Route> &routes) {
	const Route *r = best_default(routes, AF_INET);
	if (!r || !r->gateway.is_v4())
		return Error(Errc::no_gateway, "no IPv4 default route");
	return r->gateway.to_v4();
}

Result<Gateway6> default_gateway6(const std::vector<Route> &routes) {
	const Route *r = best_default(routes, AF_INET6);
	if (!r || !r->gateway.is_v6())
		return Error(Errc::no_gateway, "no IPv6 default route");
	Gateway6 gw{r->gateway.to_v6(), {}, r->oif};
	if (gw.address.is_link_local())
		gw.address.scope_id(r->oif);
	return gw;
}

Result<asio::ip::address_v6> global_address6(const std::vector<Address> &addresses,
                                             unsigned index) {
	PinholeChoice choice;
	for (const auto &a : addresses)
		if (a.family == AF_INET6 && a.index == index && a.address.is_v6())
			choice.offer(a.address.to_v6(), a.scope == RT_SCOPE_UNIVERSE, a.flags);
	return choice.result(std::to_string(index));
}

Result<Bytes> dump(uint16_t type, uint8_t family) {
	const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return Error(std::error_code(errno, std::generic_category()), "netlink socket");
	struct Closer {
		int fd;
		~Closer() { ::close(fd); }
	} closer{fd};
	// The kernel answers a dump at once; the bound is for a kernel that
	// never finishes.
	timeval timeout{1, 0};
	::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

	struct {
		nlmsghdr h;
		rtgenmsg g;
	} request{};
	request.h.nlmsg_len = sizeof request;
	request.h.nlmsg_type = type;
	request.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	request.h.nlmsg_seq = 1;
	request.g.rtgen_family = family;
	sockaddr_nl kernel{};
	kernel.nl_family = AF_NETLINK;
	if (::sendto(fd, &request, sizeof request, 0, reinterpret_cast<sockaddr *>(&kernel),
	             sizeof kernel) < 0)
		return Error(std::error_code(errno, std::generic_category()), "netlink request");

	constexpr size_t kMaxDump = 1u << 20;
	Bytes all;
	std::byte buffer[32768];
	for (;;) {
		const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return Error(std::error_code(errno, std::generic_category()), "netlink receive");
		}
		if (n == 0)
			return Error(Errc::truncated, "netlink socket closed mid-dump");
		all.insert(all.end(), buffer, buffer + n);
		if (all.size() > kMaxDump)
			return Error(Errc::too_large, "netlink dump over 1 MiB");
		// The last datagram of a dump ends with NLMSG_DONE (or an error).
		bool last = false;
		ByteReader r(ByteSpan(buffer, static_cast<size_t>(n)));
		while (r.remaining() >= sizeof(nlmsghdr)) {
			nlmsghdr h{};
			read(r, h);
			if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR)
				last = true;
			if (h.nlmsg_len < sizeof h)
				break;
			r.skip(std::min<size_t>(NLMSG_ALIGN(h.nlmsg_len) - sizeof h, r.remaining()));
		}
		if (last)
			return all;
	}
}

} // namespace plum::net::netlink
