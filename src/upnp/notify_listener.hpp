// Listens for the gateway's SSDP advertisements (UDA 1.1 §1.2: NOTIFY
// ssdp:alive / ssdp:byebye, multicast to 239.255.255.250:1900), because an
// IGD tells no one else that it restarted and forgot its port mappings:
// its first ssdp:alive after a boot carries a new BOOTID.UPNP.ORG, or
// follows the ssdp:byebye it sent on the way down.
//
// Thin I/O only: datagrams from the gateway that parse as a NOTIFY go to
// the handler (UpnpClient::observe_advertisement decides what they mean).
//
// Production binds 0.0.0.0:1900 with SO_REUSEADDR (other control points on
// the host listen too) and joins 239.255.255.250 on the local interface.
// Tests bind 127.0.0.1:0 without joining and send unicast.
#pragma once

#include "log/logger.hpp"
#include "plum/result.hpp"
#include "upnp/ssdp.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/udp.hpp>

#include <array>
#include <functional>
#include <memory>

namespace plum::upnp {

struct NotifySettings {
	asio::ip::address_v4 gateway; // the only sender believed
	asio::ip::address_v4 bind_address; // 0.0.0.0 in production; 127.0.0.1 in tests
	uint16_t port = kSsdpPort;          // 0 in tests (read back with local_endpoint())
	bool join_multicast = true;
	// The interface to join the group on (its address); unspecified: the
	// kernel's default multicast interface.
	asio::ip::address_v4 interface_address;
};

struct NotifyStats {
	unsigned long accepted = 0;
	unsigned long rejected = 0; // another sender, malformed, not a NOTIFY
};

class NotifyListener {
public:
	using Handler = std::function<void(const SsdpMessage &)>;

	NotifyListener(asio::io_context &io, NotifySettings settings, const Logger &logger);
	~NotifyListener();
	NotifyListener(const NotifyListener &) = delete;
	NotifyListener &operator=(const NotifyListener &) = delete;

	void set_handler(Handler handler) { handler_ = std::move(handler); }
	// Binds (and joins the group) and starts receiving.
	Result<void> start();
	void stop();
	bool running() const noexcept { return socket_.is_open(); }
	asio::ip::udp::endpoint local_endpoint() const;
	const NotifyStats &stats() const noexcept { return stats_; }

private:
	void start_receive();
	void on_receive(const std::error_code &ec, size_t n);

	NotifySettings settings_;
	Logger logger_;
	Handler handler_;
	asio::ip::udp::socket socket_;
	asio::ip::udp::endpoint sender_;
	// One more than the largest datagram parse_ssdp accepts, to see oversize ones.
	std::array<std::byte, kMaxSsdpDatagram + 1> buffer_{};
	NotifyStats stats_;
	std::shared_ptr<char> alive_ = std::make_shared<char>();
};

} // namespace plum::upnp
