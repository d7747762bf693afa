// The PCP client (RFC 6887): probe with ANNOUNCE, map and unmap with MAP,
// over one connected UDP socket to the gateway (udp_exchange.hpp).
//
//   probe  ANNOUNCE (§14.1): any version-2 answer but UNSUPP_VERSION means
//          the gateway speaks PCP; the epoch starts the restart tracking.
//          The external address is not in an ANNOUNCE: it is learned from
//          the first MAP. A NAT-PMP-only server answers version 0 /
//          UNSUPP_VERSION (§9): Errc::unsupported at once, no retry.
//   map    MAP (§11.1) with the request's nonce, protocol 6/17, the internal
//          port, the suggested external port, the suggested external address
//          all-zero (::ffff:0.0.0.0: "any IPv4"), the lifetime. A renewal is
//          the same request with the same nonce (§11.2).
//   unmap  MAP with lifetime 0 and the same nonce (§15).
// A reply completes a request only when its opcode, nonce, protocol and
// internal port match (an error reply without opcode data matches the
// oldest MAP in flight). Result codes become pcp_category() errors
// ("PCP: NO_RESOURCES"). Every epoch seen goes through an EpochTracker;
// a restart fires ProtocolEvents::gateway_restarted once.
//
// IPv6 (gateway and local address IPv6): the same messages over an IPv6
// socket, the client address our own IPv6 address, the suggested external
// address :: ("no preference", §11.1). A PCP-controlled firewall without NAT
// answers with our own address and port (§11: a pinhole); miniupnpd 2.3.1
// does so, and keys the pinhole on address, protocol and internal port.
#pragma once

#include "engine/confirm_gate.hpp"
#include "engine/protocol.hpp"
#include "log/logger.hpp"
#include "pcp/epoch.hpp"
#include "pcp/map_tracker.hpp"
#include "pcp/natpmp_codec.hpp"
#include "pcp/pcp_codec.hpp"
#include "pcp/udp_exchange.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace plum::pcp {

struct PcpSettings {
	// IPv4 or IPv6 (a link-local IPv6 gateway carries its scope id).
	asio::ip::address gateway;
	uint16_t server_port = kDefaultServerPort;
	// The client address PCP puts in every header (§8.1: it must equal the
	// packet's source). Unspecified: the address the kernel picks to reach
	// the gateway, read back from the connected socket. Same family as the
	// gateway.
	asio::ip::address local_address;
	// The overall deadline of each exchange (plum::Config mapping_timeout).
	std::chrono::milliseconds mapping_timeout{10000};
	// Retransmission and in-flight window; the defaults follow RFC 6886.
	ExchangeOptions exchange;
};

class PcpClient final : public engine::ProtocolClient {
public:
	PcpClient(asio::io_context &io, PcpSettings settings, const Logger &logger);
	~PcpClient() override;

	MappingProtocol kind() const noexcept override { return MappingProtocol::Pcp; }
	void set_events(engine::ProtocolEvents events) override { events_ = std::move(events); }
	void probe(std::function<void(Result<engine::ProbeResult>)> done) override;
	void map(const engine::MapRequest &request,
	         std::function<void(Result<engine::MapGrant>)> done) override;
	void unmap(const engine::MapRequest &request, std::function<void(Result<void>)> done) override;
	void cancel() override;
	bool unmap_overtakes_map() const noexcept override { return true; }
	// Requests, retransmissions and timeouts from the exchange; every reply's
	// result code (or the error instead of a reply) counted by read_reply.
	engine::ProtocolCounters counters() const override;

	// An ANNOUNCE the gateway sent unsolicited (the AnnounceListener, or one
	// unicast to our own socket). Anyone on the LAN can forge one, so it is
	// a hint: when its epoch tells of a restart, our own ANNOUNCE request
	// (ConfirmGate: at most one a second) fetches the epoch that decides.
	void observe_announce(uint32_t epoch,
	                      EpochTracker::Clock::time_point at = EpochTracker::Clock::now());
	// Confirming requests sent after a hint.
	unsigned long confirmations() const noexcept { return confirmations_; }

	// The external address from the last successful MAP, if any.
	std::optional<asio::ip::address> external_address() const { return external_; }
	const UdpExchange &exchange() const noexcept { return exchange_; }
	const EpochTracker &epoch() const noexcept { return epoch_; }

private:
	void observe_epoch(uint32_t epoch, EpochTracker::Clock::time_point at);
	void confirm_restart();
	void learn_external(const asio::ip::address &address);
	asio::ip::address_v6 client_address();
	// The MAP request for a mapping (lifetime 0: its deletion).
	Request map_request(const engine::MapRequest &request, uint32_t lifetime);
	std::string gateway_name() const;
	// Deletes (lifetime 0). Only a reply with lifetime 0 answers it (the
	// reply key): a MAP's late success never completes a delete.
	void send_delete(const engine::MapRequest &request, std::function<void(Result<void>)> done);
	// Turns an exchange result into a decoded version-2 response, or the
	// error it means (timeout, unreachable, unsupported, a PCP result code).
	Result<Response> read_reply(const Result<UdpExchange::Reply> &reply, const char *what);

	asio::io_context &io_;
	PcpSettings settings_;
	Logger logger_;
	UdpExchange exchange_;
	EpochTracker epoch_{EpochTracker::Rule::Pcp};
	engine::ProtocolEvents events_;
	MapTracker maps_;
	engine::ConfirmGate confirm_;
	unsigned long confirmations_ = 0;
	std::optional<asio::ip::address> external_;
	engine::ProtocolCounters counters_; // results only; the rest is the exchange's
	// Continuations posted by the exchange check this before touching us.
	std::shared_ptr<char> alive_ = std::make_shared<char>();
};

// The key a MAP request is matched under; exposed for the tests.
std::string pcp_map_key(const MapData &map);
// Which in-flight request a datagram from the PCP server answers.
ReplyKey pcp_reply_key(ByteSpan datagram);

} // namespace plum::pcp
