#include "pcp/pcp_client.hpp"

#include <asio/post.hpp>

#include <string>
#include <utility>

namespace plum::pcp {

namespace {

constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;

// The ANNOUNCE key: ANNOUNCE carries no nonce (§14.1), so replies match in order.
const std::string kAnnounceKey = "A";
// The prefix of every MAP key.
const std::string kMapKeyPrefix = "M";
// Appended to a MAP key for its delete (lifetime 0).
const std::string kDeleteSuffix = "D";

uint8_t ip_protocol(IpProtocol p) {
	return p == IpProtocol::Tcp ? kIpProtoTcp : kIpProtoUdp;
}

const char *protocol_name(IpProtocol p) {
	return p == IpProtocol::Tcp ? "TCP" : "UDP";
}

// An address as PCP returns it: IPv4-mapped means IPv4.
asio::ip::address unmapped(const asio::ip::address_v6 &a) {
	if (a.is_v4_mapped())
		return asio::ip::make_address_v4(asio::ip::v4_mapped, a);
	return a;
}

ExchangeOptions exchange_options(const PcpSettings &s) {
	ExchangeOptions o = s.exchange;
	if (!s.local_address.is_unspecified())
		o.local_address = s.local_address;
	return o;
}

} // namespace

std::string pcp_map_key(const MapData &map) {
	std::string key = kMapKeyPrefix;
	key.append(reinterpret_cast<const char *>(map.nonce.data()), map.nonce.size());
	key.push_back(char(map.protocol));
	key.push_back(char(map.internal_port >> 8));
	key.push_back(char(map.internal_port & 0xff));
	return key;
}

ReplyKey pcp_reply_key(ByteSpan datagram) {
	switch (classify(datagram)) {
	case WireKind::NatPmp: {
		// A NAT-PMP-only server answers any version-2 request with version
		// 0 and UNSUPP_VERSION (RFC 6887 §9, RFC 6886 §3.5), in the 8-byte
		// short form or longer: read just the header.
		ByteReader r(datagram);
		r.u8(); // version
		r.u8(); // op
		const uint16_t result = r.u16be();
		if (r.ok() && result == uint16_t(NatPmpResult::UnsuppVersion))
			return {ReplyKey::Kind::All, {}, false};
		return {};
	}
	case WireKind::Pcp: {
		auto res = decode_response(datagram);
		if (!res)
			return {};
		// §9: a server of another version says so with UNSUPP_VERSION; it
		// cannot echo a nonce it did not parse, and it answers every request
		// of ours the same way.
		if (res->version != kPcpVersion || res->result == PcpResult::UnsuppVersion)
			return {ReplyKey::Kind::All, {}, false};
		if (res->opcode == Opcode::Announce)
			return {ReplyKey::Kind::One, kAnnounceKey, false};
		if (res->opcode == Opcode::Map) {
			if (res->map) {
				// A delete (lifetime 0) and a MAP of the same mapping share
				// the nonce: the lifetime tells which one a success answers,
				// so a delete's late reply never completes a new MAP. An
				// error answers either, the oldest.
				std::string key = pcp_map_key(*res->map);
				if (res->result != PcpResult::Success)
					return {ReplyKey::Kind::One, std::move(key), true};
				if (res->lifetime == 0)
					key += kDeleteSuffix;
				return {ReplyKey::Kind::One, std::move(key), false};
			}
			// §7.2: an error reply may leave the MAP data out, nonce
			// included: it can only answer a MAP when exactly one is in
			// flight, never the oldest of many whatever its nonce.
			return {ReplyKey::Kind::One, kMapKeyPrefix, true, true};
		}
		return {}; // PEER: we never ask
	}
	case WireKind::Unknown: break;
	}
	return {};
}

PcpClient::PcpClient(asio::io_context &io, PcpSettings settings, const Logger &logger)
    : io_(io), settings_(std::move(settings)), logger_(logger),
      exchange_(io, asio::ip::udp::endpoint(settings_.gateway, settings_.server_port),
                pcp_reply_key, exchange_options(settings_), logger_, "PCP") {
	exchange_.set_unmatched_handler([this](ByteSpan data, UdpExchange::Clock::time_point at) {
		// A server may unicast ANNOUNCE to the clients it knows (§14.1.3);
		// late duplicates of answered MAPs land here too and are dropped.
		auto res = decode_response(data);
		if (res && res->version == kPcpVersion && res->opcode == Opcode::Announce &&
		    res->result == PcpResult::Success)
			observe_announce(res->epoch, at);
	});
}

PcpClient::~PcpClient() = default;

std::string PcpClient::gateway_name() const {
	if (settings_.gateway.is_v6())
		return "[" + settings_.gateway.to_string() + "]:" + std::to_string(settings_.server_port);
	return settings_.gateway.to_string() + ":" + std::to_string(settings_.server_port);
}

asio::ip::address_v6 PcpClient::client_address() {
	if (!settings_.local_address.is_unspecified()) {
		if (settings_.local_address.is_v4())
			return to_v4_mapped(settings_.local_address.to_v4());
		// The header carries no scope: a global address has none anyway.
		return asio::ip::address_v6(settings_.local_address.to_v6().to_bytes());
	}
	// §8.1: the client address must be the packet's source address; the
	// connected socket knows which one the kernel chose. If the socket does
	// not open, the send that follows fails with the reason.
	if (exchange_.open()) {
		const auto local = exchange_.local_endpoint().address();
		if (local.is_v4())
			return to_v4_mapped(local.to_v4());
		if (local.is_v6())
			return asio::ip::address_v6(local.to_v6().to_bytes());
	}
	if (settings_.gateway.is_v6())
		return asio::ip::address_v6::any();
	return to_v4_mapped(asio::ip::address_v4::any());
}

void PcpClient::observe_epoch(uint32_t epoch, EpochTracker::Clock::time_point at) {
	switch (epoch_.observe(epoch, at)) {
	case EpochTracker::Verdict::Restarted:
		logger_.info("PCP {}: the gateway restarted (epoch {}), mappings must be renewed",
		             gateway_name(), epoch);
		if (events_.gateway_restarted)
			asio::post(io_, events_.gateway_restarted);
		break;
	case EpochTracker::Verdict::Jumped:
		logger_.debug("PCP {}: epoch jumped ahead to {}", gateway_name(), epoch);
		break;
	case EpochTracker::Verdict::First:
	case EpochTracker::Verdict::Consistent: break;
	}
}

// RFC 6887 §14.1.3 has a client that hears an unsolicited ANNOUNCE wait a
// random 0-5 s, then renew its mappings; the delay spreads the load of
// every client of a large NAT answering one multicast at once. We instead
// ask the server itself at once (one ANNOUNCE request, one round trip on
// the LAN): its reply's epoch is authoritative, a real restart is then
// recovered in well under a second, and a forged ANNOUNCE costs one small
// request (at most one a second) and no re-mapping. A home gateway has a
// handful of clients, so the spreading matters less than the recovery.
void PcpClient::observe_announce(uint32_t epoch, EpochTracker::Clock::time_point at) {
	logger_.debug("PCP {}: ANNOUNCE, epoch {}", gateway_name(), epoch);
	if (epoch_.classify(epoch, at) != EpochTracker::Verdict::Restarted)
		return; // nothing to confirm (and no reference to take from it)
	confirm_restart();
}

void PcpClient::confirm_restart() {
	if (!confirm_.try_start())
		return;
	++confirmations_;
	Request req;
	req.opcode = Opcode::Announce;
	req.lifetime = 0;
	req.client_address = client_address();
	std::weak_ptr<char> alive = alive_;
	exchange_.send(encode_request(req), kAnnounceKey, settings_.mapping_timeout,
	               [this, alive](Result<UdpExchange::Reply> reply) {
		               if (alive.expired())
			               return;
		               confirm_.done();
		               // read_reply feeds the epoch to the tracker: a restart,
		               // if real, is reported from there.
		               auto res = read_reply(reply, "ANNOUNCE (confirming a restart)");
		               if (!res)
			               logger_.debug("PCP {}: restart not confirmed: {}", gateway_name(),
			                             res.error().message());
	               });
}

void PcpClient::learn_external(const asio::ip::address &address) {
	if (address.is_unspecified())
		return; // no address is not an address to tell anyone
	if (external_ && *external_ != address) {
		logger_.info("PCP {}: external address changed from {} to {}", gateway_name(),
		             external_->to_string(), address.to_string());
		if (events_.external_address_changed)
			asio::post(io_, [f = events_.external_address_changed, address]() { f(address); });
	}
	external_ = address;
}

Result<Response> PcpClient::read_reply(const Result<UdpExchange::Reply> &reply, const char *what) {
	if (!reply) {
		counters_.count_error(reply.error());
		return reply.error();
	}
	const Bytes &data = reply->data;
	if (classify(data) == WireKind::NatPmp) {
		counters_.count_result("UNSUPP_VERSION");
		return Error(Errc::unsupported, "the gateway speaks NAT-PMP only");
	}
	auto res = decode_response(data);
	if (!res) {
		counters_.count_error(res.error());
		return res.error();
	}
	counters_.count_error(Error(make_error_code(res->result)));
	if (res->version != kPcpVersion || res->result == PcpResult::UnsuppVersion)
		return Error(Errc::unsupported,
		             "the gateway speaks PCP version " + std::to_string(res->version));
	observe_epoch(res->epoch, reply->received);
	if (reply->tries > 1)
		logger_.debug("PCP {}: {} answered after {} tries", gateway_name(), what, reply->tries);
	return res;
}

void PcpClient::probe(std::function<void(Result<engine::ProbeResult>)> done) {
	Request req;
	req.opcode = Opcode::Announce;
	req.lifetime = 0;
	req.client_address = client_address();
	std::weak_ptr<char> alive = alive_;
	exchange_.send(
	    encode_request(req), kAnnounceKey, settings_.mapping_timeout,
	    [this, alive, done = std::move(done)](Result<UdpExchange::Reply> reply) {
		    if (alive.expired())
			    return done(Error(Errc::cancelled));
		    auto res = read_reply(reply, "ANNOUNCE");
		    if (!res) {
			    logger_.debug("PCP {}: probe failed: {}", gateway_name(), res.error().message());
			    return done(res.error());
		    }
		    // Any version-2 answer proves PCP; a server that does not
		    // implement ANNOUNCE says UNSUPP_OPCODE and still speaks it.
		    if (res->result != PcpResult::Success && res->result != PcpResult::UnsuppOpcode) {
			    const Error e(make_error_code(res->result), "ANNOUNCE");
			    logger_.debug("PCP {}: probe failed: {}", gateway_name(), e.message());
			    return done(e);
		    }
		    engine::ProbeResult out;
		    // Unspecified until a MAP tells (ANNOUNCE has no address).
		    out.external_address = external_.value_or(asio::ip::address_v4::any());
		    out.epoch = res->epoch;
		    out.rtt = reply->rtt;
		    out.detail = "PCP version 2";
		    logger_.debug("PCP {}: speaks PCP, epoch {}, rtt {} us", gateway_name(), res->epoch,
		                  out.rtt.count());
		    done(std::move(out));
	    });
}

Request PcpClient::map_request(const engine::MapRequest &request, uint32_t lifetime) {
	Request req;
	req.opcode = Opcode::Map;
	req.lifetime = lifetime;
	req.client_address = client_address();
	MapData m;
	m.nonce = request.nonce;
	m.protocol = ip_protocol(request.protocol);
	m.internal_port = request.internal_port;
	m.external_port = request.external_port;
	// §11.1: the family's all-zero address means "no preference": ::ffff:0.0.0.0
	// for IPv4, :: for IPv6 (where a firewall answers with our own address).
	m.external_address = settings_.gateway.is_v6() ? asio::ip::address_v6::any()
	                                               : to_v4_mapped(asio::ip::address_v4::any());
	req.map = m;
	return req;
}

void PcpClient::map(const engine::MapRequest &request,
                    std::function<void(Result<engine::MapGrant>)> done) {
	const Request req = map_request(request, request.lifetime);
	const std::string key = pcp_map_key(*req.map);
	auto ticket = maps_.open(key);
	std::weak_ptr<char> alive = alive_;
	ticket->id = exchange_.send(
	    encode_request(req), key, settings_.mapping_timeout,
	    [this, alive, request, key, ticket,
	     done = std::move(done)](Result<UdpExchange::Reply> reply) {
		    if (alive.expired())
			    return done(Error(Errc::cancelled));
		    maps_.close(key, ticket);
		    if (!reply && reply.error() == Errc::cancelled)
			    return done(reply.error());
		    auto res = read_reply(reply, "MAP");
		    if (res && res->result != PcpResult::Success)
			    res = Error(make_error_code(res->result), "MAP");
		    if (res && !res->map)
			    res = Error(Errc::malformed, "MAP success without MAP data");
		    // §15: lifetime 0 means deleted. A "success" that grants no
		    // lifetime or no port maps nothing and must not read as live.
		    if (res && (res->lifetime == 0 || res->map->external_port == 0))
			    res = Error(Errc::failed, "MAP success with lifetime " +
			                                  std::to_string(res->lifetime) + ", external port " +
			                                  std::to_string(res->map->external_port) +
			                                  ": not mapped");
		    if (!res) {
			    logger_.debug("PCP {}: MAP {} {} failed: {}", gateway_name(),
			                  protocol_name(request.protocol), request.internal_port,
			                  res.error().message());
			    return done(res.error());
		    }
		    engine::MapGrant grant;
		    grant.external_address = unmapped(res->map->external_address);
		    grant.external_port = res->map->external_port;
		    grant.lifetime = res->lifetime;
		    grant.internal_port = res->map->internal_port;
		    learn_external(grant.external_address);
		    logger_.debug("PCP {}: MAP {} {} -> {}:{} for {} s", gateway_name(),
		                  protocol_name(request.protocol), request.internal_port,
		                  grant.external_address.to_string(), grant.external_port, grant.lifetime);
		    done(std::move(grant));
	    });
}

void PcpClient::unmap(const engine::MapRequest &request, std::function<void(Result<void>)> done) {
	const Request probe = map_request(request, 0);
	const auto w = maps_.withdraw(pcp_map_key(*probe.map), exchange_);
	if (!request.held && !w.sent) {
		// Nothing of it ever reached the router: nothing to delete.
		asio::post(io_, [done = std::move(done)] { done(Result<void>()); });
		return;
	}
	send_delete(request, std::move(done));
}

void PcpClient::send_delete(const engine::MapRequest &request,
                            std::function<void(Result<void>)> done) {
	// §15: lifetime 0 deletes; the same nonce proves it is ours.
	const Request req = map_request(request, 0);
	std::weak_ptr<char> alive = alive_;
	exchange_.send(
	    encode_request(req), pcp_map_key(*req.map) + kDeleteSuffix, settings_.mapping_timeout,
	    [this, alive, request, done = std::move(done)](Result<UdpExchange::Reply> reply) mutable {
		    if (alive.expired())
			    return done(Error(Errc::cancelled));
		    auto res = read_reply(reply, "MAP delete");
		    Result<void> out;
		    if (!res)
			    out = res.error();
		    else if (res->result != PcpResult::Success)
			    out = Error(make_error_code(res->result), "MAP delete");
		    if (!out)
			    logger_.debug("PCP {}: delete {} {} failed: {}", gateway_name(),
			                  protocol_name(request.protocol), request.internal_port,
			                  out.error().message());
		    else
			    logger_.debug("PCP {}: deleted {} {}", gateway_name(),
			                  protocol_name(request.protocol), request.internal_port);
		    done(std::move(out));
	    });
}

void PcpClient::cancel() {
	exchange_.cancel_all();
}

engine::ProtocolCounters PcpClient::counters() const {
	engine::ProtocolCounters c = counters_;
	const ExchangeStats &x = exchange_.stats();
	c.requests = x.requests;
	c.retransmissions = x.retransmissions;
	c.timeouts = x.timeouts;
	return c;
}

} // namespace plum::pcp
