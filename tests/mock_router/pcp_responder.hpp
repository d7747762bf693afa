// The server side of PCP (RFC 6887) and NAT-PMP (RFC 6886) on 127.0.0.1, for
// tests: one UDP socket serving both protocols (told apart by the version
// byte, as a real gateway does on port 5351), a mapping table, an epoch, and
// knobs that inject what real routers do wrong or differently.
//
// It runs on its own thread with its own io_context, so a test may drive a
// client on another loop (or block) while the responder answers. Every
// method is thread-safe.
#pragma once

#include "pcp/natpmp_codec.hpp"
#include "pcp/pcp_codec.hpp"

#include <asio/ip/address.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/udp.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace plum::test {

class PcpResponder {
public:
	enum class Mode {
		PcpAndNatPmp,
		NatPmpOnly, // answers PCP with a version-0 UNSUPP_VERSION reply
		PcpOnly,    // answers NAT-PMP with a PCP (version 2) UNSUPP_VERSION reply
		Silent,     // reads and counts, never answers
	};

	struct Mapping {
		uint8_t protocol = 0; // IANA: 6 TCP, 17 UDP
		uint16_t internal_port = 0;
		uint16_t external_port = 0;
		uint32_t lifetime = 0; // as granted
		asio::ip::udp::endpoint client;
		std::array<uint8_t, 12> nonce{}; // zero for NAT-PMP mappings
		bool natpmp = false;             // created by NAT-PMP rather than PCP
		std::chrono::steady_clock::time_point expires;
	};

	// Requests received (dropped ones included), by protocol and opcode.
	struct Counters {
		unsigned pcp_announce = 0;
		unsigned pcp_map = 0;
		unsigned pcp_peer = 0;
		unsigned pcp_other = 0; // unknown opcode or undecodable
		unsigned natpmp_external_address = 0;
		unsigned natpmp_map_udp = 0;
		unsigned natpmp_map_tcp = 0;
		unsigned natpmp_other = 0;
		unsigned dropped = 0;  // by drop_next()
		unsigned answered = 0; // replies sent (unsolicited ones excluded)
		unsigned total() const noexcept {
			return pcp_announce + pcp_map + pcp_peer + pcp_other + natpmp_external_address +
			       natpmp_map_udp + natpmp_map_tcp + natpmp_other;
		}
	};

	// Binds 127.0.0.1:0 and starts serving at once.
	PcpResponder();
	// Binds bind_address:port (tests: 127.0.0.1 or ::1; port 0: the kernel
	// picks; a taken port throws). Towards an IPv6 client it acts as a
	// firewall without NAT (RFC 6887 §11): a MAP opens a pinhole whose
	// external address and port are the client's own.
	explicit PcpResponder(const asio::ip::address &bind_address, uint16_t port = 0);
	~PcpResponder();
	PcpResponder(const PcpResponder &) = delete;
	PcpResponder &operator=(const PcpResponder &) = delete;

	uint16_t port() const noexcept;
	asio::ip::udp::endpoint endpoint() const;

	// --- knobs ---
	void set_mode(Mode mode);
	// Closes the socket: from now on the kernel answers ICMP port unreachable.
	void close();
	// Reads and ignores the next n requests.
	void drop_next(unsigned n);
	// Delays every answer by d (0: answer at once).
	void set_delay(std::chrono::milliseconds d);
	// The next n PCP (or NAT-PMP) requests get this result code and change
	// nothing; with internal_port set, only requests for that port count.
	void force_pcp_result(pcp::PcpResult result, unsigned n = 1,
	                      std::optional<uint16_t> internal_port = std::nullopt);
	void force_natpmp_result(pcp::NatPmpResult result, unsigned n = 1,
	                         std::optional<uint16_t> internal_port = std::nullopt);
	// The next n PCP MAP/PEER replies carry a nonce that is not the request's.
	void wrong_nonce_next(unsigned n);
	// The next n replies come from another port (a second socket).
	void wrong_source_next(unsigned n);
	// A gateway reboot: all mappings forgotten, the epoch back to 0.
	void restart();
	// Set the epoch as if the server had been up for `seconds` (it keeps counting).
	void set_epoch(uint32_t seconds);
	void set_external_address(const asio::ip::address_v4 &address);
	// Caps granted lifetimes (default 86400 s).
	void set_max_lifetime(uint32_t seconds);
	// NAT-PMP error replies in the 8-byte form (default: the full form, as
	// miniupnpd 2.3 sends).
	void set_natpmp_short_errors(bool on);
	// Refuse PCP requests whose client address is not the packet's source
	// (ADDRESS_MISMATCH, RFC 6887 §8.3). Off by default.
	void set_check_client_address(bool on);

	// Unsolicited messages, sent from the responder's socket; they return
	// once the datagram is sent. ANNOUNCE: a PCP response, opcode 0, epoch now.
	void send_announce(const asio::ip::udp::endpoint &to);
	// NAT-PMP §3.2.1: an opcode-128 public address reply.
	void send_natpmp_notice(const asio::ip::udp::endpoint &to);

	// --- observers ---
	std::vector<Mapping> mappings() const; // live (unexpired) mappings
	Counters counters() const;
	uint32_t epoch() const;
	asio::ip::address_v4 external_address() const;
	std::optional<pcp::Request> last_pcp_request() const;
	std::optional<pcp::NatPmpRequest> last_natpmp_request() const;
	// Waits until pred() is true (re-checked after every request handled and
	// at least every 5 ms), at most `timeout`. pred may call the observers.
	bool wait_until(const std::function<bool()> &pred, std::chrono::milliseconds timeout) const;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace plum::test
