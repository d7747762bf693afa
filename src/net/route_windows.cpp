// route.hpp for Windows (Vista and later): the IP Helper API.
#include "net/route.hpp"

#include "net/address.hpp"
#include "net/source_address.hpp"

// winsock2.h before everything else of Windows (else windows.h brings the
// old winsock.h).
#include <winsock2.h>

#include <ws2tcpip.h>

#include <iphlpapi.h>
#include <netioapi.h>

#include <cstring>
#include <memory>
#include <vector>

namespace plum::net {

namespace {

std::string system_message(const char *call, unsigned long status) {
	return std::string(call) + ": " + std::system_category().message(static_cast<int>(status));
}

asio::ip::address address_of(const SOCKADDR_INET &a) {
	if (a.si_family == AF_INET) {
		asio::ip::address_v4::bytes_type b;
		std::memcpy(b.data(), &a.Ipv4.sin_addr, 4);
		return asio::ip::address_v4(b);
	}
	if (a.si_family == AF_INET6) {
		asio::ip::address_v6::bytes_type b;
		std::memcpy(b.data(), &a.Ipv6.sin6_addr, 16);
		return asio::ip::address_v6(b);
	}
	return {};
}

SOCKADDR_INET sockaddr_of(const asio::ip::address &a) {
	SOCKADDR_INET s{};
	if (a.is_v4()) {
		s.Ipv4.sin_family = AF_INET;
		const auto b = a.to_v4().to_bytes();
		std::memcpy(&s.Ipv4.sin_addr, b.data(), 4);
	} else {
		s.Ipv6.sin6_family = AF_INET6;
		const auto b = a.to_v6().to_bytes();
		std::memcpy(&s.Ipv6.sin6_addr, b.data(), 16);
		s.Ipv6.sin6_scope_id = static_cast<ULONG>(a.to_v6().scope_id());
	}
	return s;
}

// GetAdaptersAddresses' table: a list in one buffer. The table can grow
// between the sizing call and the reading one: a few bounded tries.
Result<std::vector<unsigned char>> adapter_addresses(ULONG family, ULONG flags) {
	std::vector<unsigned char> buffer(16 * 1024);
	ULONG status = ERROR_BUFFER_OVERFLOW;
	for (int tries = 0; tries < 4 && status == ERROR_BUFFER_OVERFLOW; ++tries) {
		ULONG size = static_cast<ULONG>(buffer.size());
		status = GetAdaptersAddresses(
		    family, flags, nullptr, reinterpret_cast<IP_ADAPTER_ADDRESSES *>(buffer.data()), &size);
		if (status == ERROR_BUFFER_OVERFLOW)
			buffer.resize(std::min<size_t>(size + 4096, 1u << 20));
	}
	if (status == ERROR_NO_DATA)
		return std::vector<unsigned char>{};
	if (status != NO_ERROR)
		return Error(Errc::no_gateway, system_message("GetAdaptersAddresses", status));
	return buffer;
}

const IP_ADAPTER_ADDRESSES *first_adapter(const std::vector<unsigned char> &table) {
	return table.empty() ? nullptr : reinterpret_cast<const IP_ADAPTER_ADDRESSES *>(table.data());
}

struct DefaultRoute {
	asio::ip::address next_hop;
	NET_IFINDEX index = 0;
	NET_LUID luid{};
};

// The default route (prefix /0 with a next hop) of the lowest metric, which
// on Windows is the route's metric plus its interface's; only over an
// interface that is connected.
Result<DefaultRoute> default_route(ADDRESS_FAMILY family) {
	PMIB_IPFORWARD_TABLE2 table = nullptr;
	const auto status = GetIpForwardTable2(family, &table);
	if (status != NO_ERROR)
		return Error(Errc::no_gateway, system_message("GetIpForwardTable2", status));
	const std::unique_ptr<MIB_IPFORWARD_TABLE2, void (*)(PVOID)> owned(table, FreeMibTable);
	// Each interface's state and metric, from the adapters' table rather
	// than GetIpInterfaceEntry, which Wine (8.0) lacks: a program calling
	// it aborts there.
	auto adapters =
	    adapter_addresses(family, GAA_FLAG_SKIP_UNICAST | GAA_FLAG_SKIP_ANYCAST |
	                                  GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER);
	if (!adapters)
		return adapters.error();
	auto adapter_of = [&](const NET_LUID &luid) -> const IP_ADAPTER_ADDRESSES * {
		for (auto *a = first_adapter(*adapters); a; a = a->Next)
			if (a->Luid.Value == luid.Value)
				return a;
		return nullptr;
	};
	bool found = false;
	ULONG best_metric = 0;
	DefaultRoute best;
	for (ULONG i = 0; i < table->NumEntries; ++i) {
		const MIB_IPFORWARD_ROW2 &row = table->Table[i];
		if (row.DestinationPrefix.PrefixLength != 0)
			continue;
		const asio::ip::address hop = address_of(row.NextHop);
		if (hop.is_unspecified())
			continue;
		const IP_ADAPTER_ADDRESSES *adapter = adapter_of(row.InterfaceLuid);
		if (!adapter || adapter->OperStatus != IfOperStatusUp)
			continue;
		const ULONG metric =
		    row.Metric + (family == AF_INET ? adapter->Ipv4Metric : adapter->Ipv6Metric);
		if (!found || metric < best_metric) {
			found = true;
			best_metric = metric;
			best = DefaultRoute{hop, row.InterfaceIndex, row.InterfaceLuid};
		}
	}
	if (!found)
		return Error(Errc::no_gateway,
		             family == AF_INET ? "no IPv4 default route" : "no IPv6 default route");
	return best;
}

// GetBestRoute2 chooses the route and our source address for it, as a
// connect() would, without a socket. Where it is missing or refuses (Wine
// has it as a stub), a connected UDP socket asks the same question.
Result<asio::ip::address> best_source(const asio::ip::address &peer) {
	const SOCKADDR_INET destination = sockaddr_of(peer);
	MIB_IPFORWARD_ROW2 route{};
	SOCKADDR_INET source{};
	if (GetBestRoute2(nullptr, 0, nullptr, &destination, 0, &route, &source) == NO_ERROR) {
		const asio::ip::address a = address_of(source);
		if (!a.is_unspecified())
			return a;
	}
	return connected_source_address(peer);
}

// GetAdaptersAddresses' view of an address, in the IFA_F_* terms of
// pinhole_rank.
unsigned ifa_flags_of(const IP_ADAPTER_UNICAST_ADDRESS &a) {
	unsigned flags = 0;
	if (a.SuffixOrigin == IpSuffixOriginRandom)
		flags |= ifa::kTemporary;
	switch (a.DadState) {
	case IpDadStatePreferred: break;
	case IpDadStateDeprecated: flags |= ifa::kDeprecated; break;
	case IpDadStateTentative: flags |= ifa::kTentative; break;
	default: flags |= ifa::kDadFailed; break; // invalid, duplicate
	}
	return flags;
}

} // namespace

Result<asio::ip::address_v4> default_gateway() {
	auto route = default_route(AF_INET);
	if (!route)
		return route.error();
	return route->next_hop.to_v4();
}

Result<Gateway6> default_gateway6() {
	auto route = default_route(AF_INET6);
	if (!route)
		return route.error();
	Gateway6 gw{route->next_hop.to_v6(), {}, route->index};
	if (gw.address.is_link_local())
		gw.address.scope_id(route->index);
	char name[NDIS_IF_MAX_STRING_SIZE + 1] = {};
	if (ConvertInterfaceLuidToNameA(&route->luid, name, sizeof name) == NO_ERROR)
		gw.interface_name = name;
	return gw;
}

Result<asio::ip::address_v4> local_address_towards(const asio::ip::address_v4 &peer) {
	auto a = best_source(peer);
	if (!a)
		return a.error();
	if (!a->is_v4())
		return Error(Errc::no_gateway, "no IPv4 source address towards " + peer.to_string());
	return a->to_v4();
}

Result<asio::ip::address_v6> local_address_towards6(const asio::ip::address_v6 &peer) {
	auto a = best_source(peer);
	if (!a)
		return a.error();
	if (!a->is_v6())
		return Error(Errc::no_gateway, "no IPv6 source address towards " + peer.to_string());
	return a->to_v6();
}

Result<asio::ip::address_v6> global_address6(unsigned interface_index) {
	auto adapters = adapter_addresses(AF_INET6, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST |
	                                                GAA_FLAG_SKIP_DNS_SERVER);
	if (!adapters)
		return adapters.error();
	PinholeChoice choice;
	for (auto *adapter = first_adapter(*adapters); adapter; adapter = adapter->Next) {
		if (adapter->Ipv6IfIndex != interface_index)
			continue;
		for (auto *u = adapter->FirstUnicastAddress; u; u = u->Next) {
			const SOCKADDR *sa = u->Address.lpSockaddr;
			if (!sa || sa->sa_family != AF_INET6)
				continue;
			SOCKADDR_INET si{};
			std::memcpy(&si.Ipv6, sa, sizeof si.Ipv6);
			choice.offer(address_of(si).to_v6(), true, ifa_flags_of(*u));
		}
	}
	return choice.result(std::to_string(interface_index));
}

} // namespace plum::net
