#include "pcp/natpmp_client.hpp"

#include "pcp/pcp_codec.hpp"

#include <asio/post.hpp>

#include <string>
#include <utility>

namespace plum::pcp {

namespace {

const std::string kExternalKey = "E";
// Appended to a mapping's key for its delete (lifetime 0).
const std::string kDeleteSuffix = "D";

NatPmpOp map_op(IpProtocol p) {
	return p == IpProtocol::Tcp ? NatPmpOp::MapTcp : NatPmpOp::MapUdp;
}

const char *protocol_name(IpProtocol p) {
	return p == IpProtocol::Tcp ? "TCP" : "UDP";
}

std::string op_prefix(NatPmpOp op) {
	switch (op) {
	case NatPmpOp::ExternalAddress: return kExternalKey;
	case NatPmpOp::MapUdp: return "U";
	case NatPmpOp::MapTcp: return "T";
	}
	return "?";
}

ExchangeOptions exchange_options(const NatPmpSettings &s) {
	ExchangeOptions o = s.exchange;
	if (!s.local_address.is_unspecified())
		o.local_address = s.local_address;
	return o;
}

} // namespace

std::string natpmp_key(NatPmpOp op, uint16_t internal_port) {
	std::string key = op_prefix(op);
	if (op != NatPmpOp::ExternalAddress) {
		key.push_back(char(internal_port >> 8));
		key.push_back(char(internal_port & 0xff));
	}
	return key;
}

ReplyKey natpmp_reply_key(ByteSpan datagram) {
	switch (classify(datagram)) {
	case WireKind::Pcp: {
		// A PCP-only server answers a version-0 request with its own
		// version and UNSUPP_VERSION (RFC 6887 §9): the result is the 4th
		// byte of the PCP header. It answers all our requests alike.
		ByteReader r(datagram);
		r.skip(3);
		const uint8_t result = r.u8();
		if (r.ok() && result == uint8_t(PcpResult::UnsuppVersion))
			return {ReplyKey::Kind::All, {}, false};
		return {};
	}
	case WireKind::NatPmp: {
		auto res = decode_natpmp_response(datagram);
		if (!res)
			return {};
		if (res->result == NatPmpResult::UnsuppVersion)
			return {ReplyKey::Kind::All, {}, false};
		if (res->op == NatPmpOp::ExternalAddress)
			return {ReplyKey::Kind::One, kExternalKey, false};
		// §3.5: an error reply may stop after the epoch, without the
		// internal port: it answers the oldest request of its op.
		if (res->result != NatPmpResult::Success && res->internal_port == 0)
			return {ReplyKey::Kind::One, op_prefix(res->op), true};
		// Replies carry no nonce (RFC 6886): a map and a delete of one port
		// differ only in the lifetime. A success with lifetime 0 answers
		// the delete (§3.4), any other the map, so a delete's late reply
		// never completes a new map of the same port. An error answers
		// either, the oldest.
		std::string key = natpmp_key(res->op, res->internal_port);
		if (res->result != NatPmpResult::Success)
			return {ReplyKey::Kind::One, std::move(key), true};
		if (res->lifetime == 0)
			key += kDeleteSuffix;
		return {ReplyKey::Kind::One, std::move(key), false};
	}
	case WireKind::Unknown: break;
	}
	return {};
}

NatPmpClient::NatPmpClient(asio::io_context &io, NatPmpSettings settings, const Logger &logger)
    : io_(io), settings_(std::move(settings)), logger_(logger),
      exchange_(io, asio::ip::udp::endpoint(settings_.gateway, settings_.server_port),
                natpmp_reply_key, exchange_options(settings_), logger_, "NAT-PMP") {}

NatPmpClient::~NatPmpClient() {
	// Maps waiting for the external address are held here, not in the
	// exchange: they too must complete, once.
	for (auto &w : address_waiters_)
		asio::post(io_, [w = std::move(w)]() { w(Error(Errc::cancelled)); });
	address_waiters_.clear();
}

std::string NatPmpClient::gateway_name() const {
	return settings_.gateway.to_string() + ":" + std::to_string(settings_.server_port);
}

void NatPmpClient::observe_epoch(uint32_t epoch, EpochTracker::Clock::time_point at) {
	switch (epoch_.observe(epoch, at)) {
	case EpochTracker::Verdict::Restarted:
		logger_.info("NAT-PMP {}: the gateway restarted (epoch {}), mappings must be renewed",
		             gateway_name(), epoch);
		if (events_.gateway_restarted)
			asio::post(io_, events_.gateway_restarted);
		break;
	case EpochTracker::Verdict::Jumped:
		logger_.debug("NAT-PMP {}: epoch jumped ahead to {}", gateway_name(), epoch);
		break;
	case EpochTracker::Verdict::First:
	case EpochTracker::Verdict::Consistent: break;
	}
}

void NatPmpClient::learn_external(const asio::ip::address_v4 &address) {
	// §3.2: 0.0.0.0 is a gateway without an external address (yet): keep
	// what we knew rather than tell the application "0.0.0.0".
	if (address.is_unspecified())
		return;
	if (external_ && *external_ != address) {
		logger_.info("NAT-PMP {}: external address changed from {} to {}", gateway_name(),
		             external_->to_string(), address.to_string());
		if (events_.external_address_changed)
			asio::post(io_, [f = events_.external_address_changed,
			                 a = asio::ip::address(address)]() { f(a); });
	}
	external_ = address;
}

void NatPmpClient::observe_notice(const asio::ip::address_v4 &address, uint32_t epoch,
                                  EpochTracker::Clock::time_point at) {
	logger_.debug("NAT-PMP {}: address notice {} epoch {}", gateway_name(), address.to_string(),
	              epoch);
	const bool new_address = !external_ || *external_ != address;
	const bool restart = epoch_.classify(epoch, at) == EpochTracker::Verdict::Restarted;
	if (!new_address && !restart)
		return;
	if (!address_waiters_.empty() || !confirm_.try_start())
		return; // a request in flight answers it, or one did a moment ago
	++confirmations_;
	std::weak_ptr<char> alive = alive_;
	// Its reply goes through read_reply (the epoch: a restart, if real) and
	// learn_external (the address: a change, if real).
	fetch_external([this, alive](Result<AddressReply> r) {
		if (alive.expired())
			return;
		confirm_.done();
		if (!r)
			logger_.debug("NAT-PMP {}: notice not confirmed: {}", gateway_name(),
			              r.error().message());
	});
}

Result<NatPmpResponse> NatPmpClient::read_reply(const Result<UdpExchange::Reply> &reply) {
	if (!reply) {
		counters_.count_error(reply.error());
		return reply.error();
	}
	if (classify(reply->data) == WireKind::Pcp) {
		counters_.count_result("UNSUPP_VERSION");
		return Error(Errc::unsupported, "the gateway speaks PCP only");
	}
	auto res = decode_natpmp_response(reply->data);
	if (!res) {
		counters_.count_error(res.error());
		return res.error();
	}
	counters_.count_error(Error(make_error_code(res->result)));
	if (res->result == NatPmpResult::UnsuppVersion)
		return Error(Errc::unsupported, "the gateway does not speak NAT-PMP version 0");
	observe_epoch(res->epoch, reply->received);
	return res;
}

void NatPmpClient::fetch_external(AddressWaiter waiter) {
	address_waiters_.push_back(std::move(waiter));
	if (address_waiters_.size() > 1)
		return; // one request already asks for all of them
	NatPmpRequest req;
	req.op = NatPmpOp::ExternalAddress;
	std::weak_ptr<char> alive = alive_;
	exchange_.send(encode_natpmp_request(req), kExternalKey, settings_.mapping_timeout,
	               [this, alive](Result<UdpExchange::Reply> reply) {
		               if (alive.expired())
			               return; // the destructor completed the waiters
		               Result<AddressReply> out = Error(Errc::failed);
		               auto res = read_reply(reply);
		               if (!res)
			               out = res.error();
		               else if (res->result != NatPmpResult::Success)
			               out = Error(make_error_code(res->result), "external address request");
		               else {
			               learn_external(res->external_address);
			               out = AddressReply{res->external_address, res->epoch, reply->rtt};
		               }
		               if (!out)
			               logger_.debug("NAT-PMP {}: external address request failed: {}",
			                             gateway_name(), out.error().message());
		               auto waiters = std::move(address_waiters_);
		               address_waiters_.clear();
		               for (auto &w : waiters)
			               w(out);
	               });
}

void NatPmpClient::probe(std::function<void(Result<engine::ProbeResult>)> done) {
	fetch_external([this, done = std::move(done)](Result<AddressReply> addr) {
		if (!addr)
			return done(addr.error());
		engine::ProbeResult out;
		out.external_address = addr->address;
		out.epoch = addr->epoch;
		out.rtt = addr->rtt;
		out.detail = "NAT-PMP";
		logger_.debug("NAT-PMP {}: speaks NAT-PMP, external address {}, epoch {}", gateway_name(),
		              addr->address.to_string(), addr->epoch);
		done(std::move(out));
	});
}

UdpExchange::Id NatPmpClient::send_map(const engine::MapRequest &request, uint32_t lifetime,
                                       std::function<void(Result<NatPmpResponse>)> then) {
	NatPmpRequest req;
	req.op = map_op(request.protocol);
	req.internal_port = request.internal_port;
	// §3.4: a deletion carries suggested external port 0.
	req.external_port = lifetime == 0 ? 0 : request.external_port;
	req.lifetime = lifetime;
	std::weak_ptr<char> alive = alive_;
	return exchange_.send(encode_natpmp_request(req),
	                      natpmp_key(req.op, req.internal_port) +
	                          (lifetime == 0 ? kDeleteSuffix : ""),
	                      settings_.mapping_timeout,
	                      [this, alive, then = std::move(then)](Result<UdpExchange::Reply> reply) {
		                      if (alive.expired())
			                      return then(Error(Errc::cancelled));
		                      then(read_reply(reply));
	                      });
}

void NatPmpClient::map(const engine::MapRequest &request,
                       std::function<void(Result<engine::MapGrant>)> done) {
	std::weak_ptr<char> alive = alive_;
	const std::string key = natpmp_key(map_op(request.protocol), request.internal_port);
	auto ticket = maps_.open(key);
	auto send = [this, alive, request, done, key, ticket]() {
		if (alive.expired())
			return done(Error(Errc::cancelled));
		if (ticket->withdrawn) {
			maps_.close(key, ticket);
			return done(Error(Errc::cancelled, "the mapping was deleted"));
		}
		ticket->id =
		    send_map(request, request.lifetime,
		             [this, alive, request, done, key, ticket](Result<NatPmpResponse> res) {
			             if (alive.expired())
				             return done(Error(Errc::cancelled));
			             maps_.close(key, ticket);
			             if (res && res->result != NatPmpResult::Success)
				             res = Error(make_error_code(res->result), "mapping request");
			             // §3.3: lifetime 0 means deleted; a "success" without a
			             // lifetime or a port maps nothing.
			             if (res && (res->lifetime == 0 || res->external_port == 0))
				             res = Error(Errc::failed,
				                         "mapping granted with lifetime " +
				                             std::to_string(res->lifetime) + ", external port " +
				                             std::to_string(res->external_port) + ": not mapped");
			             if (!res) {
				             if (res.error() != Errc::cancelled)
					             logger_.debug("NAT-PMP {}: map {} {} failed: {}", gateway_name(),
					                           protocol_name(request.protocol),
					                           request.internal_port, res.error().message());
				             return done(res.error());
			             }
			             engine::MapGrant grant;
			             // NAT-PMP mapping replies carry no address: the cached one.
			             grant.external_address = external_.value_or(asio::ip::address_v4::any());
			             grant.external_port = res->external_port;
			             grant.lifetime = res->lifetime;
			             grant.internal_port = res->internal_port;
			             logger_.debug("NAT-PMP {}: map {} {} -> {}:{} for {} s", gateway_name(),
			                           protocol_name(request.protocol), request.internal_port,
			                           grant.external_address.to_string(), grant.external_port,
			                           grant.lifetime);
			             done(std::move(grant));
		             });
	};
	if (external_) {
		send();
		return;
	}
	fetch_external([this, alive, send, done, key, ticket](Result<AddressReply> addr) {
		if (!addr) {
			if (!alive.expired())
				maps_.close(key, ticket);
			return done(addr.error());
		}
		send();
	});
}

void NatPmpClient::unmap(const engine::MapRequest &request,
                         std::function<void(Result<void>)> done) {
	const auto w =
	    maps_.withdraw(natpmp_key(map_op(request.protocol), request.internal_port), exchange_);
	if (!request.held && !w.sent) {
		// Nothing of it ever reached the router: nothing to delete.
		asio::post(io_, [done = std::move(done)] { done(Result<void>()); });
		return;
	}
	send_delete(request, std::move(done));
}

void NatPmpClient::send_delete(const engine::MapRequest &request,
                               std::function<void(Result<void>)> done) {
	std::weak_ptr<char> alive = alive_;
	send_map(request, 0,
	         [this, alive, request, done = std::move(done)](Result<NatPmpResponse> res) mutable {
		         if (alive.expired())
			         return done(Error(Errc::cancelled));
		         Result<void> out;
		         if (!res)
			         out = res.error();
		         else if (res->result != NatPmpResult::Success)
			         out = Error(make_error_code(res->result), "mapping deletion");
		         if (!out)
			         logger_.debug("NAT-PMP {}: delete {} {} failed: {}", gateway_name(),
			                       protocol_name(request.protocol), request.internal_port,
			                       out.error().message());
		         else
			         logger_.debug("NAT-PMP {}: deleted {} {}", gateway_name(),
			                       protocol_name(request.protocol), request.internal_port);
		         done(std::move(out));
	         });
}

void NatPmpClient::cancel() {
	exchange_.cancel_all();
}

engine::ProtocolCounters NatPmpClient::counters() const {
	engine::ProtocolCounters c = counters_;
	const ExchangeStats &x = exchange_.stats();
	c.requests = x.requests;
	c.retransmissions = x.retransmissions;
	c.timeouts = x.timeouts;
	return c;
}

} // namespace plum::pcp
