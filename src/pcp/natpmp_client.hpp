// The NAT-PMP client (RFC 6886), over one connected UDP socket to the
// gateway (udp_exchange.hpp).
//
//   probe  external address request (§3.2): the address and the epoch.
//   map    op 1 (UDP) / 2 (TCP) (§3.3) with the internal port, the
//          suggested external port and the lifetime. NAT-PMP replies carry
//          no address, so the grant takes the cached external address; when
//          none is known, one external address request goes first (several
//          maps waiting for it share it).
//   unmap  the same op with lifetime 0 and suggested external port 0 (§3.4).
// A reply completes a request when its op (and, for maps, the internal port)
// matches; the short error form without ports answers the oldest request of
// that op. A version-2 reply (a PCP-only server) or UNSUPP_VERSION means
// Errc::unsupported at once. Result codes become natpmp_category() errors
// ("NAT-PMP: OUT_OF_RESOURCES"). Epochs go through an EpochTracker with
// RFC 6886 §3.6's rule; a restart fires gateway_restarted once, a new
// external address fires external_address_changed.
#pragma once

#include "engine/confirm_gate.hpp"
#include "engine/protocol.hpp"
#include "log/logger.hpp"
#include "pcp/epoch.hpp"
#include "pcp/map_tracker.hpp"
#include "pcp/natpmp_codec.hpp"
#include "pcp/udp_exchange.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace plum::pcp {

struct NatPmpSettings {
	asio::ip::address_v4 gateway;
	uint16_t server_port = kDefaultServerPort;
	// Where to send from; unspecified: the kernel's choice.
	asio::ip::address_v4 local_address;
	std::chrono::milliseconds mapping_timeout{10000};
	ExchangeOptions exchange;
};

class NatPmpClient final : public engine::ProtocolClient {
public:
	NatPmpClient(asio::io_context &io, NatPmpSettings settings, const Logger &logger);
	~NatPmpClient() override;

	MappingProtocol kind() const noexcept override { return MappingProtocol::NatPmp; }
	void set_events(engine::ProtocolEvents events) override { events_ = std::move(events); }
	void probe(std::function<void(Result<engine::ProbeResult>)> done) override;
	void map(const engine::MapRequest &request,
	         std::function<void(Result<engine::MapGrant>)> done) override;
	void unmap(const engine::MapRequest &request, std::function<void(Result<void>)> done) override;
	void cancel() override;
	bool unmap_overtakes_map() const noexcept override { return true; }
	// As PcpClient's: the exchange's counts and each reply's result code.
	engine::ProtocolCounters counters() const override;

	// An external address notice the gateway multicast (§3.2.1), from the
	// AnnounceListener. NAT-PMP has no nonce and anyone on the LAN can send
	// one from the gateway's address: it is a hint. When it tells of a new
	// address or a restart, our own external address request (ConfirmGate:
	// at most one a second) fetches what the gateway says, and only that
	// reaches the application. 0.0.0.0 never does.
	void observe_notice(const asio::ip::address_v4 &address, uint32_t epoch,
	                    EpochTracker::Clock::time_point at = EpochTracker::Clock::now());
	// Confirming requests sent after a notice.
	unsigned long confirmations() const noexcept { return confirmations_; }

	std::optional<asio::ip::address_v4> external_address() const { return external_; }
	const UdpExchange &exchange() const noexcept { return exchange_; }
	const EpochTracker &epoch() const noexcept { return epoch_; }

private:
	struct AddressReply {
		asio::ip::address_v4 address;
		uint32_t epoch = 0;
		std::chrono::microseconds rtt{0};
	};
	using AddressWaiter = std::function<void(Result<AddressReply>)>;

	// One external address request at a time; callers wait on it together.
	void fetch_external(AddressWaiter waiter);
	void observe_epoch(uint32_t epoch, EpochTracker::Clock::time_point at);
	void learn_external(const asio::ip::address_v4 &address);
	std::string gateway_name() const;
	Result<NatPmpResponse> read_reply(const Result<UdpExchange::Reply> &reply);
	// Deletes (lifetime 0). Only a reply with lifetime 0 answers it (the
	// reply key): a MAP's late success never completes a delete.
	void send_delete(const engine::MapRequest &request, std::function<void(Result<void>)> done);
	UdpExchange::Id send_map(const engine::MapRequest &request, uint32_t lifetime,
	                         std::function<void(Result<NatPmpResponse>)> then);

	asio::io_context &io_;
	NatPmpSettings settings_;
	Logger logger_;
	UdpExchange exchange_;
	EpochTracker epoch_{EpochTracker::Rule::NatPmp};
	engine::ProtocolEvents events_;
	MapTracker maps_;
	engine::ConfirmGate confirm_;
	unsigned long confirmations_ = 0;
	std::optional<asio::ip::address_v4> external_;
	std::vector<AddressWaiter> address_waiters_;
	engine::ProtocolCounters counters_; // results only; the rest is the exchange's
	std::shared_ptr<char> alive_ = std::make_shared<char>();
};

// Which in-flight request a datagram from the NAT-PMP server answers.
ReplyKey natpmp_reply_key(ByteSpan datagram);
// The key a request is matched under.
std::string natpmp_key(NatPmpOp op, uint16_t internal_port);

} // namespace plum::pcp
