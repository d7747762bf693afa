// UDA 1.1 §1.3.2: a control point multicasts M-SEARCH (MX seconds for the
// devices to spread their answers) and devices answer by unicast to the
// source address and port of the request. UDA 1.1 §1.3.3 allows unicast
// M-SEARCH to a known device (HOST = its address): we send both, since some
// routers ignore multicast from a just-joined host and some answer only one.
#include "upnp/ssdp_search.hpp"

#include "upnp/ssdp.hpp"

#include <asio/ip/multicast.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace plum::upnp {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
	auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
	return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
	                                          [&](char x, char y) { return lower(x) == lower(y); });
}

// A persistent receive error (not one lost datagram) ends the search
// instead of spinning.
constexpr int kMaxReceiveErrors = 16;

} // namespace

struct SsdpSearch::Impl : std::enable_shared_from_this<SsdpSearch::Impl> {
	Impl(asio::io_context &io_, SsdpSearchConfig config_, const Logger &logger)
	    : io(io_), config(std::move(config_)), log(logger), socket(io_), resend_timer(io_),
	      deadline(io_) {}

	void start(std::function<void(Result<SsdpHit>)> d) {
		if (running) {
			asio::post(io, [d = std::move(d)] {
				d(Error(Errc::invalid_argument, "SSDP search already running"));
			});
			return;
		}
		running = true;
		++generation;
		done = std::move(d);
		sends = 0;
		receive_errors = 0;

		if (config.targets.empty())
			return complete(Error(Errc::invalid_argument, "SSDP search without targets"));
		std::error_code ec;
		socket.open(asio::ip::udp::v4(), ec);
		if (!ec)
			socket.bind(asio::ip::udp::endpoint(config.bind_address, 0), ec);
		if (ec)
			return complete(Error(ec, "SSDP socket"));
		const bool multicast =
		    std::any_of(config.targets.begin(), config.targets.end(),
		                [](const auto &t) { return t.address().is_multicast(); });
		if (multicast) {
			// UDA: TTL 2 by default for SSDP; it must not leave the LAN.
			socket.set_option(asio::ip::multicast::hops(2), ec);
			if (ec)
				log.debug("SSDP: cannot set multicast TTL: {}", ec.message());
			if (!config.bind_address.is_unspecified()) {
				socket.set_option(asio::ip::multicast::outbound_interface(config.bind_address), ec);
				if (ec)
					log.debug("SSDP: cannot set multicast interface {}: {}",
					          config.bind_address.to_string(), ec.message());
			}
		}

		messages.clear();
		for (const auto &target : config.targets) {
			// Multicast: HOST is the group; unicast: HOST is the device.
			const std::string host =
			    target.address().to_string() + ':' + std::to_string(target.port());
			for (std::string_view st : igd_search_targets())
				messages.emplace_back(target, build_msearch(st, config.mx_seconds, host));
		}

		const unsigned gen = generation;
		deadline.expires_after(config.timeout);
		deadline.async_wait([self = shared_from_this(), gen](std::error_code e) {
			if (!e && self->current(gen))
				self->complete(Error(Errc::timeout, "no usable SSDP answer"));
		});
		log.debug("SSDP: searching {} targets at {} endpoints", igd_search_targets().size(),
		          config.targets.size());
		receive();
		// Posted: the other protocols' probes (one datagram each, sent from
		// their own posted steps) leave first. A router serving every
		// protocol in one thread, as miniupnpd does, would otherwise answer
		// PCP only after working through this burst of searches.
		asio::post(io, [self = shared_from_this(), gen] {
			if (self->current(gen))
				self->send_round();
		});
	}

	bool current(unsigned gen) const noexcept { return running && gen == generation; }

	void send_round() {
		++sends;
		const int copies = sends == 1 ? std::clamp(config.first_round_copies, 1, 4) : 1;
		for (int copy = 0; copy < copies; ++copy)
			for (const auto &[target, message] : messages)
				socket.async_send_to(asio::buffer(message), target,
				                     [self = shared_from_this(), gen = generation,
				                      target = target](std::error_code e, size_t) {
					                     if (e && self->current(gen))
						                     self->log.debug("SSDP: send to {}:{} failed: {}",
						                                     target.address().to_string(),
						                                     target.port(), e.message());
				                     });
		// Resend a couple of times within the timeout: a lost M-SEARCH or a
		// lost answer should not cost the whole search.
		if (sends < kMaxSends && config.resend_interval * sends < config.timeout) {
			resend_timer.expires_after(config.resend_interval);
			resend_timer.async_wait(
			    [self = shared_from_this(), gen = generation](std::error_code e) {
				    if (!e && self->current(gen))
					    self->send_round();
			    });
		}
	}

	void receive() {
		socket.async_receive_from(
		    asio::buffer(buffer), sender,
		    [self = shared_from_this(), gen = generation](std::error_code e, size_t n) {
			    self->on_datagram(gen, e, n);
		    });
	}

	void on_datagram(unsigned gen, std::error_code ec, size_t n) {
		if (!current(gen))
			return;
		if (ec) {
			if (ec == asio::error::operation_aborted)
				return;
			log.debug("SSDP: receive failed: {}", ec.message());
			if (++receive_errors > kMaxReceiveErrors)
				return complete(Error(ec, "SSDP receive"));
			return receive();
		}
		handle(n);
		if (current(gen))
			receive();
	}

	bool accepted(const asio::ip::address &addr) const {
		if (config.accept_from)
			return config.accept_from(addr);
		return std::any_of(config.targets.begin(), config.targets.end(), [&](const auto &t) {
			return !t.address().is_multicast() && t.address() == addr;
		});
	}

	void handle(size_t n) {
		// Match on address only: some routers answer from port 1901 or an
		// ephemeral port, not from 1900.
		const asio::ip::address from = sender.address();
		if (!accepted(from)) {
			log.debug("SSDP: ignoring a datagram from {}: not an accepted responder",
			          from.to_string());
			return;
		}
		if (n > kMaxSsdpDatagram) {
			log.debug("SSDP: ignoring an oversized datagram from {}", from.to_string());
			return;
		}
		auto msg = parse_ssdp(ByteSpan(buffer.data(), n));
		if (!msg) {
			log.debug("SSDP: ignoring a datagram from {}: {}", from.to_string(),
			          msg.error().message());
			return;
		}
		if (msg->kind != SsdpMessage::Kind::SearchResponse)
			return; // an advertisement, not the answer to our search
		const auto targets = igd_search_targets();
		if (std::none_of(targets.begin(), targets.end(),
		                 [&](std::string_view t) { return iequals(t, msg->st); })) {
			log.debug("SSDP: ignoring an answer from {} for ST {}", from.to_string(), msg->st);
			return;
		}
		auto location = http::parse_url(msg->location); // parse_ssdp checked it
		if (!location)
			return;
		if (location->host != from.to_string()) {
			log.warn("SSDP: {} answered with LOCATION {} on another host: ignored",
			         from.to_string(), location->to_string());
			return;
		}
		log.debug("SSDP: {} ({}) at {}", msg->st, msg->server, location->to_string());
		complete(SsdpHit{from, std::move(*location), std::move(msg->st), std::move(msg->server),
		                 msg->boot_id, std::move(msg->usn)});
	}

	// The single exit: stops all I/O and posts the result once.
	void complete(Result<SsdpHit> result) {
		if (!running)
			return;
		stop();
		asio::post(io, [d = std::move(done), result = std::move(result)]() mutable {
			d(std::move(result));
		});
		done = nullptr;
	}

	void stop() {
		running = false;
		std::error_code ignored;
		resend_timer.cancel();
		deadline.cancel();
		socket.close(ignored);
	}

	asio::io_context &io;
	SsdpSearchConfig config;
	Logger log;
	asio::ip::udp::socket socket;
	asio::steady_timer resend_timer;
	asio::steady_timer deadline;
	std::function<void(Result<SsdpHit>)> done;
	bool running = false;
	unsigned generation = 0;
	int sends = 0;
	int receive_errors = 0;
	std::vector<std::pair<asio::ip::udp::endpoint, std::string>> messages;
	// One byte more than the largest datagram we accept, to see oversize.
	std::array<std::byte, kMaxSsdpDatagram + 1> buffer{};
	asio::ip::udp::endpoint sender;
};

SsdpSearch::SsdpSearch(asio::io_context &io, SsdpSearchConfig config, const Logger &logger)
    : impl_(std::make_shared<Impl>(io, std::move(config), logger)) {}

SsdpSearch::~SsdpSearch() {
	impl_->done = nullptr;
	impl_->stop();
}

void SsdpSearch::start(std::function<void(Result<SsdpHit>)> done) {
	impl_->start(std::move(done));
}

void SsdpSearch::cancel() {
	impl_->complete(Error(Errc::cancelled, "SSDP search cancelled"));
}

} // namespace plum::upnp
