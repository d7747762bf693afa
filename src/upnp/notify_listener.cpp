#include "upnp/notify_listener.hpp"

#include <asio/ip/multicast.hpp>

namespace plum::upnp {

NotifyListener::NotifyListener(asio::io_context &io, NotifySettings settings, const Logger &logger)
    : settings_(settings), logger_(logger), socket_(io) {}

NotifyListener::~NotifyListener() = default;

Result<void> NotifyListener::start() {
	if (socket_.is_open())
		return {};
	const asio::ip::udp::endpoint local(settings_.bind_address, settings_.port);
	std::error_code ec;
	socket_.open(local.protocol(), ec);
	if (!ec)
		socket_.set_option(asio::socket_base::reuse_address(true), ec);
	if (!ec)
		socket_.bind(local, ec);
	if (!ec && settings_.join_multicast) {
		const auto group = asio::ip::make_address_v4(kSsdpMulticastAddress);
		if (settings_.interface_address.is_unspecified())
			socket_.set_option(asio::ip::multicast::join_group(group), ec);
		else
			socket_.set_option(asio::ip::multicast::join_group(group, settings_.interface_address),
			                   ec);
	}
	if (ec) {
		std::error_code ignored;
		socket_.close(ignored);
		return Error(ec, "listening for SSDP advertisements");
	}
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
	std::error_code ec;
	auto ep = socket_.local_endpoint(ec);
	return ec ? asio::ip::udp::endpoint() : ep;
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
