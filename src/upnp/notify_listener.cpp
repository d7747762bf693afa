#include "upnp/notify_listener.hpp"

#include "net/group_listener.hpp"

namespace plum::upnp {

NotifyListener::NotifyListener(asio::io_context &io, NotifySettings settings, const Logger &logger)
    : settings_(settings), logger_(logger), socket_(io) {}

NotifyListener::~NotifyListener() = default;

Result<void> NotifyListener::start() {
	if (socket_.is_open())
		return {};
	const asio::ip::udp::endpoint local(settings_.bind_address, settings_.port);
	std::optional<asio::ip::address> group;
	if (settings_.join_multicast)
		group = asio::ip::make_address_v4(kSsdpMulticastAddress);
	if (auto ec = net::open_group_listener(socket_, local, group, settings_.interface_address))
		return Error(ec, "listening for SSDP advertisements");
	logger_.debug("UPnP {}: listening for SSDP advertisements on {}:{}",
	              settings_.gateway.to_string(), local_endpoint().address().to_string(),
	              local_endpoint().port());
	start_receive();
	return {};
}

void NotifyListener::stop() {
	std::error_code ignored;
	socket_.close(ignored);
}

asio::ip::udp::endpoint NotifyListener::local_endpoint() const {
	return net::local_endpoint_of(socket_);
}

void NotifyListener::start_receive() {
	std::weak_ptr<char> alive = alive_;
	socket_.async_receive_from(asio::buffer(buffer_), sender_,
	                           [this, alive](const std::error_code &ec, size_t n) {
		                           if (!alive.expired())
			                           on_receive(ec, n);
	                           });
}

void NotifyListener::on_receive(const std::error_code &ec, size_t n) {
	if (ec == asio::error::operation_aborted || !socket_.is_open())
		return;
	if (ec) {
		logger_.debug("SSDP advertisements: receive failed: {}", ec.message());
	} else if (sender_.address() != asio::ip::address(settings_.gateway)) {
		// Every host on the LAN advertises here; only the gateway matters.
		++stats_.rejected;
	} else {
		auto msg = parse_ssdp(ByteSpan(buffer_.data(), n));
		if (msg && msg->kind == SsdpMessage::Kind::Notify) {
			++stats_.accepted;
			if (handler_)
				handler_(*msg);
		} else {
			++stats_.rejected;
			logger_.debug("SSDP advertisements: ignored {} bytes from the gateway: {}", n,
			              msg ? std::string("not a NOTIFY") : msg.error().message());
		}
	}
	start_receive();
}

} // namespace plum::upnp
