#include "pcp/announce_listener.hpp"

#include "net/group_listener.hpp"

#include "pcp/natpmp_client.hpp"
#include "pcp/pcp_client.hpp"
#include "pcp/pcp_codec.hpp"


namespace plum::pcp {

namespace {

// RFC 6887 §14.1.3 and RFC 6886 §3.2.1: the all-hosts group.
const asio::ip::address_v4 kAllHosts(0xE0000001u); // 224.0.0.1
// ff02::1, the link-local all-nodes group (RFC 6887 §14.1.3).
const asio::ip::address_v6 kAllNodes6(asio::ip::address_v6::bytes_type{0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                                                       0, 0, 0, 0, 0, 0, 0, 1});
constexpr size_t kMaxDatagram = 1100;

} // namespace

AnnounceHandlers announce_handlers_for(PcpClient *pcp, NatPmpClient *natpmp) {
	AnnounceHandlers h;
	if (pcp)
		h.pcp_announce = [pcp](uint32_t epoch, AnnounceHandlers::Clock::time_point at) {
			pcp->observe_announce(epoch, at);
		};
	if (natpmp)
		h.natpmp_notice = [natpmp](const asio::ip::address_v4 &address, uint32_t epoch,
		                           AnnounceHandlers::Clock::time_point at) {
			natpmp->observe_notice(address, epoch, at);
		};
	return h;
}

AnnounceListener::AnnounceListener(asio::io_context &io, AnnounceSettings settings,
                                   const Logger &logger)
    : io_(io), settings_(settings), logger_(logger), socket_(io) {}

AnnounceListener::~AnnounceListener() = default;

Result<void> AnnounceListener::start() {
	if (socket_.is_open())
		return {};
	const asio::ip::udp::endpoint local(settings_.bind_address, settings_.port);
	std::optional<asio::ip::address> group;
	if (settings_.join_multicast)
		group =
		    local.address().is_v6() ? asio::ip::address(kAllNodes6) : asio::ip::address(kAllHosts);
	const std::error_code ec = net::open_group_listener(
	    socket_, local, group, settings_.interface_address, settings_.interface_index);
	if (ec) {
		logger_.warn("PCP/NAT-PMP announcements: cannot listen on {}:{}: {}",
		             settings_.bind_address.to_string(), settings_.port, ec.message());
		return Error(ec, "listening for gateway announcements");
	}
	logger_.debug("PCP/NAT-PMP announcements: listening on {}:{}",
	              local_endpoint().address().to_string(), local_endpoint().port());
	start_receive();
	return {};
}

void AnnounceListener::stop() {
	std::error_code ignored;
	socket_.close(ignored);
}

asio::ip::udp::endpoint AnnounceListener::local_endpoint() const {
	return net::local_endpoint_of(socket_);
}

void AnnounceListener::start_receive() {
	std::weak_ptr<char> alive = alive_;
	socket_.async_receive_from(asio::buffer(buffer_), sender_,
	                           [this, alive](const std::error_code &ec, size_t n) {
		                           if (!alive.expired())
			                           on_receive(ec, n);
	                           });
}

void AnnounceListener::on_receive(const std::error_code &ec, size_t n) {
	if (ec == asio::error::operation_aborted || !socket_.is_open())
		return;
	if (!ec) {
		// Anyone on the link can send to 224.0.0.1:5350; only the gateway
		// may tell us it restarted or changed address.
		if (sender_.address() != asio::ip::address(settings_.gateway) || n > kMaxDatagram) {
			++stats_.rejected;
			logger_.debug("announcements: ignored {} bytes from {}", n,
			              sender_.address().to_string());
		} else {
			handle(ByteSpan(buffer_.data(), n));
		}
	} else {
		logger_.debug("announcements: receive failed: {}", ec.message());
	}
	start_receive();
}

void AnnounceListener::handle(ByteSpan data) {
	const auto now = AnnounceHandlers::Clock::now();
	switch (classify(data)) {
	case WireKind::Pcp: {
		auto res = decode_response(data);
		if (res && res->version == kPcpVersion && res->opcode == Opcode::Announce &&
		    res->result == PcpResult::Success) {
			++stats_.accepted;
			logger_.debug("PCP {}: ANNOUNCE received, epoch {}", settings_.gateway.to_string(),
			              res->epoch);
			if (handlers_.pcp_announce)
				handlers_.pcp_announce(res->epoch, now);
			return;
		}
		break;
	}
	case WireKind::NatPmp: {
		auto res = decode_natpmp_response(data);
		if (res && res->op == NatPmpOp::ExternalAddress && res->result == NatPmpResult::Success) {
			++stats_.accepted;
			logger_.debug("NAT-PMP {}: address notice {}, epoch {}", settings_.gateway.to_string(),
			              res->external_address.to_string(), res->epoch);
			if (handlers_.natpmp_notice)
				handlers_.natpmp_notice(res->external_address, res->epoch, now);
			return;
		}
		break;
	}
	case WireKind::Unknown: break;
	}
	++stats_.rejected;
	logger_.debug("announcements: ignored a {}-byte datagram that is no announcement", data.size());
}

} // namespace plum::pcp
