// The asynchronous SSDP search for an Internet Gateway Device: sends an
// M-SEARCH for every IGD target to every configured endpoint, resends a few
// times within the timeout (UDP loss), and completes with the first usable
// search response.
//
// "Usable": from an address accept_from() allows (any source port: some
// routers answer from 1901), a well-formed search response for one of our
// targets, and a LOCATION whose host is the responder's own address. An
// answer pointing elsewhere is an attack or a misconfiguration; it is logged
// and ignored.
#pragma once

#include "http/url.hpp"
#include "log/logger.hpp"
#include "plum/result.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/udp.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plum::upnp {

struct SsdpSearchConfig {
	// Production: 239.255.255.250:1900 and gateway:1900. Tests: 127.0.0.1:<port>.
	std::vector<asio::ip::udp::endpoint> targets;
	// The local address to send from and the multicast interface (0.0.0.0: any).
	asio::ip::address_v4 bind_address;
	// Which responders to believe, e.g. "is the gateway". Empty: only the
	// addresses of the unicast targets.
	std::function<bool(const asio::ip::address &)> accept_from;
	int mx_seconds = 1;
	std::chrono::milliseconds timeout{3000};
	std::chrono::milliseconds resend_interval{500};
	// Copies of each M-SEARCH in the first round. UDA 1.1 §1.3.3 has a
	// device wait a random time of up to MX seconds before each answer, so
	// with n independent requests the first answer comes after about
	// 1/(n+1) of MX. Not every device draws: Debian's miniupnpd 2.3.1
	// answers every M-SEARCH after a fixed 50 ms (seen with strace), which
	// no number of copies shortens.
	int first_round_copies = 2;
};

struct SsdpHit {
	asio::ip::address responder;
	http::Url location;
	std::string st;
	std::string server;
	std::optional<uint32_t> boot_id; // BOOTID.UPNP.ORG, when the device sends it
	std::string usn;                 // "uuid:<device>::<type>"
};

class SsdpSearch {
public:
	// How many times each M-SEARCH is sent at most (first send included).
	static constexpr int kMaxSends = 3;

	SsdpSearch(asio::io_context &io, SsdpSearchConfig config, const Logger &logger);
	// Destroying a search abandons it without invoking done; call cancel()
	// first to have done complete with Errc::cancelled.
	~SsdpSearch();
	SsdpSearch(const SsdpSearch &) = delete;
	SsdpSearch &operator=(const SsdpSearch &) = delete;

	// done is invoked exactly once, through asio::post: the first usable
	// answer, Errc::timeout, Errc::cancelled, or the socket's error. Calling
	// start() while a search runs completes the new done with
	// Errc::invalid_argument; after completion, start() searches again.
	void start(std::function<void(Result<SsdpHit>)> done);
	// Call on the io_context's thread.
	void cancel();

private:
	struct Impl;
	std::shared_ptr<Impl> impl_;
};

} // namespace plum::upnp
