// Listens for what the gateway says without being asked: PCP ANNOUNCE
// responses (RFC 6887 §14.1.3: after a restart, to 224.0.0.1:5350) and
// NAT-PMP external address notices (RFC 6886 §3.2.1: op 128, to
// 224.0.0.1:5350 on start-up and when the address changes).
//
// Production binds 0.0.0.0:5350 with SO_REUSEADDR (other clients on the
// host listen too) and joins 224.0.0.1 on the local interface. Tests bind
// 127.0.0.1:0 without joining and have the responder send unicast.
// IPv6 (§14.1.3: ANNOUNCE to ff02::1 port 5350): [::]:5350, IPv6 only,
// joining ff02::1 on the gateway's interface; tests bind ::1.
// Only datagrams whose source address is the gateway are accepted (any
// source port: servers send these from 5351 or from another socket).
// Handlers run on the io_context thread from the receive completion.
#pragma once

#include "core/bytes.hpp"
#include "log/logger.hpp"
#include "pcp/natpmp_codec.hpp"
#include "plum/result.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/udp.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>

namespace plum::pcp {

class PcpClient;
class NatPmpClient;

struct AnnounceSettings {
	// IPv4, or IPv6 (link-local with its scope).
	asio::ip::address gateway;
	// 0.0.0.0 or :: in production; 127.0.0.1 or ::1 in tests.
	asio::ip::address bind_address;
	// 0 in tests (the kernel picks; read it back with local_endpoint()).
	uint16_t port = kDefaultClientPort;
	bool join_multicast = true;
	// The interface to join 224.0.0.1 on (its address); unspecified: the
	// kernel's default multicast interface.
	asio::ip::address_v4 interface_address;
	// IPv6: the interface (index) to join ff02::1 on; 0: the default one.
	unsigned interface_index = 0;
};

struct AnnounceHandlers {
	using Clock = std::chrono::steady_clock;
	std::function<void(uint32_t epoch, Clock::time_point at)> pcp_announce;
	std::function<void(const asio::ip::address_v4 &address, uint32_t epoch, Clock::time_point at)>
	    natpmp_notice;
};

// Routes ANNOUNCE to pcp->observe_announce and notices to
// natpmp->observe_notice (either may be null). The clients must outlive
// the listener's use of these handlers.
AnnounceHandlers announce_handlers_for(PcpClient *pcp, NatPmpClient *natpmp);

struct AnnounceStats {
	unsigned long accepted = 0;
	unsigned long rejected = 0; // wrong source, malformed, not an announcement
};

class AnnounceListener {
public:
	AnnounceListener(asio::io_context &io, AnnounceSettings settings, const Logger &logger);
	~AnnounceListener();
	AnnounceListener(const AnnounceListener &) = delete;
	AnnounceListener &operator=(const AnnounceListener &) = delete;

	void set_handlers(AnnounceHandlers handlers) { handlers_ = std::move(handlers); }
	// Binds (and joins the group) and starts receiving.
	Result<void> start();
	void stop();
	bool running() const noexcept { return socket_.is_open(); }
	asio::ip::udp::endpoint local_endpoint() const;
	const AnnounceStats &stats() const noexcept { return stats_; }

private:
	void start_receive();
	void on_receive(const std::error_code &ec, size_t n);
	void handle(ByteSpan data);

	asio::io_context &io_;
	AnnounceSettings settings_;
	Logger logger_;
	AnnounceHandlers handlers_;
	asio::ip::udp::socket socket_;
	asio::ip::udp::endpoint sender_;
	std::array<std::byte, 1101> buffer_{};
	AnnounceStats stats_;
	std::shared_ptr<char> alive_ = std::make_shared<char>();
};

} // namespace plum::pcp
