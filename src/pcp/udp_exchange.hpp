// Request/response over one connected UDP socket: the transport under the
// PCP and NAT-PMP clients.
//
// - connect()ed to the gateway's server port, because the system reports
//   an ICMP port unreachable only to a connected UDP socket (on the next
//   receive; net/udp_socket.hpp): "nothing listens on 5351" is then known in about a
//   millisecond, as Errc::unreachable, instead of after every retry. The
//   kernel also drops datagrams from any other address or port for us.
// - Many requests in flight at once. The client gives each request a key
//   and tells, once per datagram, which key a reply answers (ReplyKey); the
//   reply completes the oldest in-flight request with that key. Replies
//   that match nothing, do not parse, or exceed 1100 bytes are dropped.
// - Each request is a small state machine that owns its timer: first
//   timeout from the RTT estimate (250 ms floor), doubling on each retry,
//   at most `max_tries` transmissions, and an overall deadline counted from
//   the first transmission (time spent queued behind the window is our own
//   congestion, not the router's silence).
// - Requests beyond the in-flight window (AIMD, in_flight_window.hpp) wait
//   in a FIFO queue.
//
// Everything runs on the caller's io_context (one thread, no locks);
// completion handlers are posted, never called from inside the call that
// started the request, and each is called exactly once (Errc::cancelled on
// cancel() or destruction).
#pragma once

#include "core/bytes.hpp"
#include "log/logger.hpp"
#include "pcp/in_flight_window.hpp"
#include "pcp/rtt_estimator.hpp"
#include "plum/result.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace plum::pcp {

// Retransmission: RFC 6886 §3.1 says 250 ms, doubling, 9 tries for
// NAT-PMP. RFC 6887 §8.1.1 suggests a 3 s first timeout for PCP; we use the
// same schedule as NAT-PMP for both (as libplum, Tailscale and most
// clients do): a gateway on the LAN answers in a millisecond, a lost first
// packet should not cost 3 s, and the window below, not a slow timer, is
// what protects a busy router. The caller's deadline (the mapping timeout,
// 10 s by default) ends the retries first in practice: 250+500+...+4000 ms
// is 7.75 s for six tries.
struct ExchangeOptions {
	std::chrono::milliseconds min_timeout{250};
	std::chrono::milliseconds max_timeout{30000};
	unsigned max_tries = 9;
	WindowOptions window;
	// Where to bind before connecting; unspecified: the kernel picks the
	// address that routes to the gateway (and an ephemeral port).
	asio::ip::address local_address;
};

// What a reply answers, as the protocol client reads it.
struct ReplyKey {
	enum class Kind {
		Ignore, // not a reply we can use (malformed, unknown op)
		One,    // the oldest in-flight request whose key matches
		All,    // every in-flight request (e.g. "I do not speak this version")
	};
	Kind kind = Kind::Ignore;
	std::string key;
	// Match requests whose key starts with `key` (an error reply that
	// omits the fields a full key would use: the oldest of that kind).
	bool prefix = false;
	// With prefix: match only when exactly one in-flight request has it. A
	// reply that cannot name its request must not complete a stranger's.
	bool unique = false;
};

struct ExchangeStats {
	unsigned long requests = 0;      // send() calls
	unsigned long transmissions = 0; // datagrams sent, retries included
	unsigned long retransmissions = 0;
	unsigned long replies = 0;     // datagrams that completed a request
	unsigned long ignored = 0;     // datagrams dropped (unmatched, malformed, oversize)
	unsigned long timeouts = 0;    // requests that failed with Errc::timeout
	unsigned long unreachable = 0; // ICMP port unreachable reports
	size_t max_in_flight = 0;      // the most requests in flight at once
};

class UdpExchange {
public:
	using Clock = std::chrono::steady_clock;
	using Id = uint64_t;

	struct Reply {
		Bytes data;
		Clock::time_point received;
		// Since the last transmission (ambiguous after a retry, see Karn).
		std::chrono::microseconds rtt{0};
		unsigned tries = 0;
	};
	using Handler = std::function<void(Result<Reply>)>;
	using KeyOf = std::function<ReplyKey(ByteSpan)>;
	using Unmatched = std::function<void(ByteSpan, Clock::time_point)>;

	// `name` prefixes log lines ("PCP", "NAT-PMP").
	UdpExchange(asio::io_context &io, asio::ip::udp::endpoint server, KeyOf key_of,
	            ExchangeOptions options, const Logger &logger, std::string name);
	~UdpExchange();
	UdpExchange(const UdpExchange &) = delete;
	UdpExchange &operator=(const UdpExchange &) = delete;

	// Sends `packet` (retransmitting as needed) until a reply matching `key`
	// arrives or `deadline` passes after the first transmission. The socket
	// is opened on first use; failing that, the request fails.
	Id send(Bytes packet, std::string key, Clock::duration deadline, Handler done);
	// Completes one request (or all) with Errc::cancelled. Unknown ids: no-op.
	void cancel(Id id);
	void cancel_all();
	// Whether request `id` has been sent at least once (false for one still
	// queued behind the window, or unknown).
	bool transmitted(Id id) const;

	// A well-formed datagram that answered no in-flight request (e.g. an
	// unsolicited PCP ANNOUNCE unicast to our port).
	void set_unmatched_handler(Unmatched handler) { unmatched_ = std::move(handler); }

	// Opens and connects the socket now (send() does it too). Errors:
	// the system error of open/bind/connect.
	Result<void> open();
	bool is_open() const noexcept { return socket_.is_open(); }
	// The address and port our datagrams leave from (after open()).
	asio::ip::udp::endpoint local_endpoint() const;
	const asio::ip::udp::endpoint &server() const noexcept { return server_; }

	const ExchangeStats &stats() const noexcept { return stats_; }
	const RttEstimator &rtt() const noexcept { return rtt_; }
	const InFlightWindow &window() const noexcept { return window_; }
	size_t in_flight() const noexcept { return in_flight_; }
	size_t queued() const noexcept { return queue_.size(); }

private:
	struct Pending;

	void pump();
	void schedule_pump();
	void transmit(Pending &p);
	void arm_timer(Pending &p);
	void on_timer(Id id, const std::error_code &ec);
	void start_receive();
	void on_receive(const std::error_code &ec, size_t n);
	void complete(Id id, Result<Reply> result);
	void fail_in_flight(const Error &error);
	void close_socket();

	asio::io_context &io_;
	asio::ip::udp::endpoint server_;
	KeyOf key_of_;
	Unmatched unmatched_;
	ExchangeOptions options_;
	Logger logger_;
	std::string name_;

	asio::ip::udp::socket socket_;
	bool receiving_ = false;
	bool cancelling_ = false;
	bool pump_scheduled_ = false;
	unsigned receive_errors_ = 0;
	// One more than the largest datagram we accept, to see oversize ones.
	std::array<std::byte, 1101> buffer_{};

	RttEstimator rtt_;
	InFlightWindow window_;
	ExchangeStats stats_;

	Id next_id_ = 1;
	std::map<Id, std::unique_ptr<Pending>> pending_; // ordered: oldest first
	std::deque<Id> queue_;
	size_t in_flight_ = 0;

	// Handlers of socket and timer operations hold a weak copy: an operation
	// aborted by our destruction then finds it expired and touches nothing.
	std::shared_ptr<char> alive_ = std::make_shared<char>();
};

} // namespace plum::pcp
