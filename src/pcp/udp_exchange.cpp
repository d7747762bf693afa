#include "pcp/udp_exchange.hpp"

#include "net/udp_socket.hpp"

#include <asio/post.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace plum::pcp {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

// The largest datagram either protocol allows (RFC 6887 §7: 1100 bytes).
constexpr size_t kMaxDatagram = 1100;
// Receive errors in a row (other than ICMP reports) before we give up on
// the socket instead of spinning on it.
constexpr unsigned kMaxReceiveErrors = 16;

} // namespace

struct UdpExchange::Pending {
	Pending(asio::io_context &io, Id id_) : id(id_), timer(io) {}

	Id id;
	std::shared_ptr<const Bytes> packet;
	std::string key;
	Handler done;
	Clock::duration deadline_after{};
	Clock::time_point deadline{};
	Clock::time_point first_sent{};
	Clock::time_point last_sent{};
	Clock::duration timeout{};
	unsigned tries = 0;
	uint64_t seq = 0;
	bool in_flight = false;
	asio::steady_timer timer;
};

UdpExchange::UdpExchange(asio::io_context &io, asio::ip::udp::endpoint server, KeyOf key_of,
                         ExchangeOptions options, const Logger &logger, std::string name)
    : io_(io), server_(std::move(server)), key_of_(std::move(key_of)), options_(options),
      logger_(logger), name_(std::move(name)), socket_(io),
      rtt_(options.min_timeout, std::max(options.min_timeout, options.max_timeout)),
      window_(options.window) {
	options_.max_tries = std::max(options_.max_tries, 1u);
}

UdpExchange::~UdpExchange() {
	cancel_all();
	// alive_ goes first (last member): the aborted socket and timer
	// operations then find it expired.
}

Result<void> UdpExchange::open() {
	if (socket_.is_open())
		return {};
	std::error_code ec;
	socket_.open(server_.protocol(), ec);
	if (!ec)
		ec = net::report_port_unreachable(socket_);
	if (!ec && !options_.local_address.is_unspecified())
		socket_.bind(asio::ip::udp::endpoint(options_.local_address, 0), ec);
	if (!ec)
		socket_.connect(server_, ec);
	if (ec) {
		logger_.warn("{} {}:{}: cannot open socket: {}", name_, server_.address().to_string(),
		             server_.port(), ec.message());
		std::error_code ignored;
		socket_.close(ignored);
		return Error(ec, "opening the socket to the gateway");
	}
	start_receive();
	return {};
}

asio::ip::udp::endpoint UdpExchange::local_endpoint() const {
	std::error_code ec;
	auto ep = socket_.local_endpoint(ec);
	return ec ? asio::ip::udp::endpoint() : ep;
}

UdpExchange::Id UdpExchange::send(Bytes packet, std::string key, Clock::duration deadline,
                                  Handler done) {
	const Id id = next_id_++;
	++stats_.requests;
	if (auto opened = open(); !opened) {
		asio::post(io_, [done = std::move(done), e = opened.error()]() { done(e); });
		return id;
	}
	auto p = std::make_unique<Pending>(io_, id);
	p->packet = std::make_shared<const Bytes>(std::move(packet));
	p->key = std::move(key);
	p->done = std::move(done);
	p->deadline_after = deadline;
	pending_.emplace(id, std::move(p));
	queue_.push_back(id);
	schedule_pump();
	return id;
}

void UdpExchange::cancel(Id id) {
	if (pending_.count(id))
		complete(id, Error(Errc::cancelled));
}

bool UdpExchange::transmitted(Id id) const {
	auto it = pending_.find(id);
	return it != pending_.end() && it->second->tries > 0;
}

void UdpExchange::cancel_all() {
	std::vector<Id> ids;
	ids.reserve(pending_.size());
	for (auto &[id, p] : pending_)
		ids.push_back(id);
	// No queued request may slip into flight while we empty the table.
	cancelling_ = true;
	for (Id id : ids)
		complete(id, Error(Errc::cancelled));
	cancelling_ = false;
}

void UdpExchange::pump() {
	if (cancelling_)
		return;
	while (in_flight_ < window_.limit() && !queue_.empty()) {
		const Id id = queue_.front();
		queue_.pop_front();
		auto it = pending_.find(id);
		if (it == pending_.end())
			continue;
		Pending &p = *it->second;
		p.in_flight = true;
		++in_flight_;
		stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_);
		transmit(p);
	}
}

void UdpExchange::transmit(Pending &p) {
	const auto now = Clock::now();
	if (p.tries == 0) {
		p.first_sent = now;
		p.deadline = now + p.deadline_after;
		p.seq = window_.next_seq();
		p.timeout = rtt_.initial_timeout();
	} else {
		++stats_.retransmissions;
		p.timeout = std::min<Clock::duration>(p.timeout * 2, options_.max_timeout);
	}
	++p.tries;
	++stats_.transmissions;
	p.last_sent = now;

	std::weak_ptr<char> alive = alive_;
	socket_.async_send(asio::buffer(*p.packet), [this, alive, packet = p.packet](
	                                                const std::error_code &ec, size_t) {
		if (alive.expired() || !ec || ec == asio::error::operation_aborted)
			return;
		if (net::is_unreachable_report(ec)) {
			++stats_.unreachable;
			fail_in_flight(Error(Errc::unreachable, ec.message()));
			return;
		}
		// Anything else (ENOBUFS, a firewall's EPERM): the
		// retransmission timer tries again.
		logger_.debug("{} {}:{}: send failed: {}", name_, server_.address().to_string(),
		              server_.port(), ec.message());
	});
	arm_timer(p);
}

void UdpExchange::arm_timer(Pending &p) {
	p.timer.expires_at(std::min(p.last_sent + p.timeout, p.deadline));
	std::weak_ptr<char> alive = alive_;
	p.timer.async_wait([this, alive, id = p.id](const std::error_code &ec) {
		if (!alive.expired())
			on_timer(id, ec);
	});
}

void UdpExchange::on_timer(Id id, const std::error_code &ec) {
	if (ec == asio::error::operation_aborted)
		return;
	auto it = pending_.find(id);
	if (it == pending_.end())
		return;
	Pending &p = *it->second;
	if (!p.in_flight)
		return;
	window_.on_timeout(p.seq);
	const auto now = Clock::now();
	if (now >= p.deadline || p.tries >= options_.max_tries) {
		++stats_.timeouts;
		logger_.debug("{} {}:{}: no answer after {} tries", name_, server_.address().to_string(),
		              server_.port(), p.tries);
		complete(id, Error(Errc::timeout, "no answer from the gateway"));
		return;
	}
	transmit(p);
}

void UdpExchange::start_receive() {
	if (receiving_ || !socket_.is_open())
		return;
	receiving_ = true;
	std::weak_ptr<char> alive = alive_;
	socket_.async_receive(asio::buffer(buffer_),
	                      [this, alive](const std::error_code &ec, size_t n) {
		                      if (!alive.expired())
			                      on_receive(ec, n);
	                      });
}

void UdpExchange::on_receive(const std::error_code &ec, size_t n) {
	receiving_ = false;
	if (ec == asio::error::operation_aborted || !socket_.is_open())
		return;
	if (net::is_oversize_datagram(ec)) {
		n = buffer_.size(); // as Linux reports it: a full buffer, dropped below
	} else if (ec) {
		if (net::is_unreachable_report(ec)) {
			// The gateway's kernel said nothing listens on the port (or
			// the gateway is gone): every request in flight was sent there.
			++stats_.unreachable;
			logger_.debug("{} {}:{}: {}", name_, server_.address().to_string(), server_.port(),
			              ec.message());
			fail_in_flight(Error(Errc::unreachable, ec.message()));
			receive_errors_ = 0;
			start_receive();
			return;
		}
		logger_.debug("{} {}:{}: receive failed: {}", name_, server_.address().to_string(),
		              server_.port(), ec.message());
		if (++receive_errors_ >= kMaxReceiveErrors) {
			receive_errors_ = 0;
			fail_in_flight(Error(ec, "receiving from the gateway"));
			close_socket();
			return;
		}
		start_receive();
		return;
	}
	receive_errors_ = 0;
	const auto now = Clock::now();

	if (n > kMaxDatagram) {
		++stats_.ignored;
		logger_.debug("{}: dropped an oversize datagram ({} bytes or more)", name_, n);
		start_receive();
		return;
	}
	const ByteSpan data(buffer_.data(), n);
	const ReplyKey key = key_of_(data);

	std::vector<Id> matched;
	if (key.kind == ReplyKey::Kind::One) {
		for (auto &[id, p] : pending_) {
			if (!p->in_flight)
				continue;
			const bool same =
			    key.prefix ? p->key.compare(0, key.key.size(), key.key) == 0 : p->key == key.key;
			if (same) {
				matched.push_back(id);
				if (!key.unique || matched.size() > 1)
					break;
			}
		}
		if (key.unique && matched.size() != 1)
			matched.clear();
	} else if (key.kind == ReplyKey::Kind::All) {
		for (auto &[id, p] : pending_)
			if (p->in_flight)
				matched.push_back(id);
	}

	if (matched.empty()) {
		++stats_.ignored;
		logger_.debug("{}: ignored a {}-byte datagram that answers no request", name_, n);
		if (key.kind != ReplyKey::Kind::Ignore && unmatched_)
			unmatched_(data, now);
		start_receive();
		return;
	}

	++stats_.replies;
	for (Id id : matched) {
		Pending &p = *pending_.at(id);
		Reply reply;
		reply.data.assign(data.begin(), data.end());
		reply.received = now;
		reply.tries = p.tries;
		reply.rtt = duration_cast<microseconds>(now - p.last_sent);
		if (p.tries == 1) {
			// Karn: only a request sent once gives an unambiguous sample.
			const auto sample = duration_cast<microseconds>(now - p.first_sent);
			rtt_.add_sample(sample);
			window_.on_answer(p.seq, sample, rtt_.min_rtt());
		}
		complete(id, std::move(reply));
	}
	start_receive();
}

void UdpExchange::complete(Id id, Result<Reply> result) {
	auto it = pending_.find(id);
	if (it == pending_.end())
		return;
	std::unique_ptr<Pending> p = std::move(it->second);
	pending_.erase(it);
	if (p->in_flight)
		--in_flight_;
	else
		queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
	p->timer.cancel();
	asio::post(
	    io_, [done = std::move(p->done), r = std::move(result)]() mutable { done(std::move(r)); });
	schedule_pump();
}

// The window is refilled from a posted step, never inside send() or a
// completion: what the caller does in the same turn (cancel a queued
// request, queue a delete behind it) is settled before anything goes out.
void UdpExchange::schedule_pump() {
	if (pump_scheduled_)
		return;
	pump_scheduled_ = true;
	std::weak_ptr<char> alive = alive_;
	asio::post(io_, [this, alive] {
		if (alive.expired())
			return;
		pump_scheduled_ = false;
		pump();
	});
}

void UdpExchange::fail_in_flight(const Error &error) {
	std::vector<Id> ids;
	for (auto &[id, p] : pending_)
		if (p->in_flight)
			ids.push_back(id);
	for (Id id : ids)
		complete(id, error);
}

void UdpExchange::close_socket() {
	std::error_code ignored;
	socket_.close(ignored);
	receiving_ = false;
}

} // namespace plum::pcp
