// A loopback PCP + NAT-PMP server for tests. Not a faithful router: just
// enough of RFC 6887 §11.3 and RFC 6886 §3.3-3.4 (port choice, renewal,
// deletion, nonce ownership) to drive clients, plus fault injection.
#include "pcp_responder.hpp"

#include "core/bytes.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace plum::test {

using asio::ip::udp;
using Clock = std::chrono::steady_clock;
using namespace plum::pcp;

namespace {

// The address a PCP client should put in its header to match this source:
// IPv4-mapped for IPv4, the address itself (without scope) for IPv6.
asio::ip::address_v6 pcp_address_of(const asio::ip::address &a) {
	if (a.is_v4())
		return to_v4_mapped(a.to_v4());
	return asio::ip::address_v6(a.to_v6().to_bytes());
}

// An IPv6 client (not IPv4-mapped): this server is then a firewall without
// NAT (RFC 6887 §11): its "mapping" is a pinhole to the client's own
// address and internal port.
bool is_v6_client(const udp::endpoint &peer) {
	return peer.address().is_v6() && !peer.address().to_v6().is_v4_mapped();
}

constexpr size_t kReceiveBuffer = 2048; // room to see oversized datagrams
constexpr uint32_t kErrorLifetime = 30; // how long a PCP error holds (§7.2 lifetime)
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

struct Forced {
	unsigned count = 0;
	int result = 0;
	std::optional<uint16_t> port;
	// Consumes one forced answer if this request is one it applies to.
	std::optional<int> take(std::optional<uint16_t> request_port) {
		if (count == 0)
			return std::nullopt;
		if (port && request_port != port)
			return std::nullopt;
		--count;
		return result;
	}
};

} // namespace

struct PcpResponder::Impl {
	asio::io_context io;
	asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
	udp::socket socket{io};
	udp::socket other{io}; // the "wrong source port" socket
	udp::endpoint local;
	std::array<std::byte, kReceiveBuffer> buffer{};
	udp::endpoint from;
	std::thread thread;

	// Everything below is guarded by m.
	mutable std::mutex m;
	Mode mode = Mode::PcpAndNatPmp;
	unsigned drop = 0;
	std::chrono::milliseconds delay{0};
	Forced forced_pcp, forced_natpmp;
	unsigned wrong_nonce = 0;
	unsigned wrong_source = 0;
	Clock::time_point epoch_start = Clock::now();
	uint32_t epoch_base = 0;
	asio::ip::address_v4 external = asio::ip::make_address_v4("203.0.113.1");
	uint32_t max_lifetime = 86400;
	bool natpmp_short_errors = false;
	bool check_client_address = false;
	uint16_t next_port = 40000;
	std::vector<Mapping> table;
	Counters counters;
	std::optional<Request> last_pcp;
	std::optional<NatPmpRequest> last_natpmp;

	// wait_until sleeps on this; every handled datagram notifies it.
	mutable std::mutex wait_m;
	mutable std::condition_variable wait_cv;
	uint64_t generation = 0; // guarded by wait_m

	Impl(const asio::ip::address &bind_address, uint16_t port) {
		const udp::endpoint loopback(bind_address, port);
		socket.open(loopback.protocol());
		socket.bind(loopback);
		other.open(loopback.protocol());
		other.bind(udp::endpoint(bind_address, 0));
		local = socket.local_endpoint();
		receive();
		thread = std::thread([this] { io.run(); });
	}

	~Impl() {
		work.reset();
		io.stop();
		if (thread.joinable())
			thread.join();
	}

	// Runs f on the responder's thread and waits for it.
	template <class F> void run_on_loop(F f) {
		std::promise<void> done;
		asio::post(io, [&] {
			f();
			done.set_value();
		});
		done.get_future().wait();
	}

	uint32_t epoch_now() const {
		auto up = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - epoch_start);
		return epoch_base + static_cast<uint32_t>(up.count());
	}

	void purge_expired() {
		auto now = Clock::now();
		std::erase_if(table, [&](const Mapping &e) { return e.expires <= now; });
	}

	void receive() {
		socket.async_receive_from(asio::buffer(buffer), from, [this](std::error_code ec, size_t n) {
			if (ec == asio::error::operation_aborted || !socket.is_open())
				return;
			if (!ec)
				handle(ByteSpan(buffer.data(), n), from);
			{
				std::lock_guard lk(wait_m);
				++generation;
			}
			wait_cv.notify_all();
			receive();
		});
	}

	void handle(ByteSpan in, const udp::endpoint &peer) {
		std::lock_guard lk(m);
		purge_expired();
		// RFC 6887 §8.3: shorter than 2 bytes is dropped silently. The
		// version byte tells NAT-PMP (0) from PCP, as on a real port 5351.
		if (in.size() < 2)
			return;
		const bool natpmp = std::to_integer<uint8_t>(in[0]) == kNatPmpVersion;
		if (natpmp)
			count_natpmp(in);
		else
			count_pcp(in);
		if (drop > 0) {
			--drop;
			++counters.dropped;
			return;
		}
		if (mode == Mode::Silent)
			return;
		if (natpmp)
			handle_natpmp(in, peer);
		else
			handle_pcp(in, peer);
	}

	void count_pcp(ByteSpan in) {
		switch (std::to_integer<uint8_t>(in[1]) & 0x7f) {
		case 0: ++counters.pcp_announce; break;
		case 1: ++counters.pcp_map; break;
		case 2: ++counters.pcp_peer; break;
		default: ++counters.pcp_other; break;
		}
	}

	void count_natpmp(ByteSpan in) {
		switch (std::to_integer<uint8_t>(in[1])) {
		case 0: ++counters.natpmp_external_address; break;
		case 1: ++counters.natpmp_map_udp; break;
		case 2: ++counters.natpmp_map_tcp; break;
		default: ++counters.natpmp_other; break;
		}
	}

	void reply(Bytes bytes, const udp::endpoint &to) {
		++counters.answered;
		bool alternate = false;
		if (wrong_source > 0) {
			--wrong_source;
			alternate = true;
		}
		auto data = std::make_shared<Bytes>(std::move(bytes));
		auto send = [this, data, to, alternate] {
			std::error_code ignored;
			auto &s = alternate ? other : socket;
			if (s.is_open())
				s.send_to(asio::buffer(*data), to, 0, ignored);
		};
		if (delay.count() == 0) {
			send();
			return;
		}
		auto timer = std::make_shared<asio::steady_timer>(io, delay);
		timer->async_wait([timer, send](std::error_code ec) {
			if (!ec)
				send();
		});
	}

	// --- PCP (RFC 6887) ---

	Response pcp_error(Opcode op, PcpResult result) const {
		Response res;
		res.opcode = op;
		res.result = result;
		res.lifetime = kErrorLifetime;
		res.epoch = epoch_now();
		return res;
	}

	void handle_pcp(ByteSpan in, const udp::endpoint &peer) {
		const uint8_t opbyte = std::to_integer<uint8_t>(in[1]);
		if (opbyte & 0x80)
			return; // a response: §8.3 says drop it
		const Opcode op = Opcode(opbyte & 0x7f);
		if (mode == Mode::NatPmpOnly) {
			// RFC 6886 §3.5: a NAT-PMP server answers any other version with
			// version 0 / UNSUPP_VERSION.
			NatPmpResponse r;
			r.op = NatPmpOp(op);
			r.result = NatPmpResult::UnsuppVersion;
			r.epoch = epoch_now();
			reply(encode_natpmp_short_response(r), peer);
			return;
		}
		auto req = decode_request(in);
		if (!req) {
			PcpResult result = PcpResult::MalformedRequest;
			if (std::to_integer<uint8_t>(in[0]) != kPcpVersion)
				result = PcpResult::UnsuppVersion;
			else if (req.error() == Errc::unsupported)
				result = PcpResult::UnsuppOpcode;
			reply(encode_response(pcp_error(op, result)), peer);
			return;
		}
		last_pcp = *req;
		if (req->opcode == Opcode::Announce) {
			Response res;
			res.opcode = Opcode::Announce;
			res.epoch = epoch_now();
			reply(encode_response(res), peer);
			return;
		}
		MapData map = req->opcode == Opcode::Map ? *req->map : req->peer->map;
		Response res = pcp_error(req->opcode, PcpResult::Success);
		auto answer = [&](PcpResult result, const MapData &data, uint32_t lifetime) {
			res.result = result;
			res.lifetime = lifetime;
			MapData out = data;
			if (wrong_nonce > 0) {
				--wrong_nonce;
				for (auto &b : out.nonce)
					b = uint8_t(~b);
			}
			if (req->opcode == Opcode::Map) {
				res.map = out;
			} else {
				res.peer = *req->peer;
				res.peer->map = out;
			}
			reply(encode_response(res), peer);
		};
		auto fail = [&](PcpResult result) {
			MapData echo = map;
			echo.external_port = 0;
			answer(result, echo, kErrorLifetime);
		};

		if (auto forced = forced_pcp.take(map.internal_port))
			return fail(PcpResult(*forced));
		if (check_client_address && req->client_address != pcp_address_of(peer.address()))
			return fail(PcpResult::AddressMismatch);
		bool prefer_failure = false;
		for (const auto &o : req->options) {
			if (o.code == kOptionPreferFailure)
				prefer_failure = true;
			else if (o.code < 128 && o.code != kOptionThirdParty && o.code != kOptionFilter)
				return fail(PcpResult::UnsuppOption); // mandatory-to-process, unknown
		}
		if (map.protocol != kTcp && map.protocol != kUdp && map.protocol != 0)
			return fail(PcpResult::UnsuppProtocol);

		const bool firewall = is_v6_client(peer);
		auto existing = find(peer, map.protocol, map.internal_port);
		if (req->lifetime == 0) {
			// §15: deletion by the owner (same nonce); deleting nothing succeeds.
			MapData out = map;
			if (existing != table.end()) {
				if (existing->nonce != map.nonce)
					return fail(PcpResult::NotAuthorized);
				out.external_port = existing->external_port;
				table.erase(existing);
			}
			out.external_address =
			    firewall ? pcp_address_of(peer.address()) : to_v4_mapped(external);
			return answer(PcpResult::Success, out, 0);
		}
		uint32_t granted = std::min(req->lifetime, max_lifetime);
		MapData out = map;
		out.external_address = firewall ? pcp_address_of(peer.address()) : to_v4_mapped(external);
		if (existing != table.end()) {
			// §11.3: only the nonce that made a mapping may renew it.
			if (existing->nonce != map.nonce)
				return fail(PcpResult::NotAuthorized);
			existing->lifetime = granted;
			existing->expires = Clock::now() + std::chrono::seconds(granted);
			out.external_port = existing->external_port;
			return answer(PcpResult::Success, out, granted);
		}
		// A firewall opens the internal port itself; it has no other to give.
		auto port = firewall ? (port_free(map.protocol, map.internal_port)
		                            ? std::optional<uint16_t>(map.internal_port)
		                            : std::nullopt)
		                     : choose_port(map.protocol, map.external_port);
		if (prefer_failure && port != map.external_port)
			return fail(PcpResult::CannotProvideExternal);
		if (!port)
			return fail(PcpResult::NoResources);
		table.push_back(Mapping{map.protocol, map.internal_port, *port, granted, peer, map.nonce,
		                        false, Clock::now() + std::chrono::seconds(granted)});
		out.external_port = *port;
		answer(PcpResult::Success, out, granted);
	}

	// --- NAT-PMP (RFC 6886) ---

	void handle_natpmp(ByteSpan in, const udp::endpoint &peer) {
		const uint8_t opbyte = std::to_integer<uint8_t>(in[1]);
		if (opbyte & kNatPmpResponseBit)
			return; // a response (another client's notice?): not for us
		if (mode == Mode::PcpOnly) {
			// RFC 6887 §9: a PCP-only server answers version 0 with
			// UNSUPP_VERSION in its own (version 2) format.
			reply(encode_response(pcp_error(Opcode(opbyte), PcpResult::UnsuppVersion)), peer);
			return;
		}
		NatPmpResponse res;
		res.op = NatPmpOp(opbyte);
		res.epoch = epoch_now();
		auto fail = [&](NatPmpResult result) {
			res.result = result;
			res.external_port = 0;
			res.lifetime = 0;
			reply(natpmp_short_errors || res.op > NatPmpOp::MapTcp
			          ? encode_natpmp_short_response(res)
			          : encode_natpmp_response(res),
			      peer);
		};
		auto req = decode_natpmp_request(in);
		if (!req) {
			if (req.error() == Errc::unsupported)
				fail(NatPmpResult::UnsuppOpcode);
			return; // a truncated request: the RFC says nothing; stay quiet
		}
		last_natpmp = *req;
		res.internal_port = req->internal_port;
		const bool address = req->op == NatPmpOp::ExternalAddress;
		if (auto forced =
		        forced_natpmp.take(address ? std::nullopt : std::optional(req->internal_port)))
			return fail(NatPmpResult(*forced));
		if (address) {
			if (external.is_unspecified())
				return fail(NatPmpResult::NetworkFailure);
			res.external_address = external;
			reply(encode_natpmp_response(res), peer);
			return;
		}
		const uint8_t protocol = req->op == NatPmpOp::MapTcp ? kTcp : kUdp;
		if (req->lifetime == 0) {
			// §3.4: internal port 0 (and external 0) deletes every mapping of
			// this client for the protocol; otherwise the one for the port.
			std::erase_if(table, [&](const Mapping &e) {
				return e.client.address() == peer.address() && e.protocol == protocol &&
				       (req->internal_port == 0 || e.internal_port == req->internal_port);
			});
			res.external_port = 0;
			res.lifetime = 0;
			reply(encode_natpmp_response(res), peer);
			return;
		}
		uint32_t granted = std::min(req->lifetime, max_lifetime);
		auto existing = find(peer, protocol, req->internal_port);
		if (existing != table.end()) {
			existing->lifetime = granted;
			existing->expires = Clock::now() + std::chrono::seconds(granted);
			res.external_port = existing->external_port;
		} else {
			auto port = choose_port(protocol, req->external_port);
			if (!port)
				return fail(NatPmpResult::OutOfResources);
			table.push_back(Mapping{protocol,
			                        req->internal_port,
			                        *port,
			                        granted,
			                        peer,
			                        {},
			                        true,
			                        Clock::now() + std::chrono::seconds(granted)});
			res.external_port = *port;
		}
		res.lifetime = granted;
		reply(encode_natpmp_response(res), peer);
	}

	// --- the table ---

	std::vector<Mapping>::iterator find(const udp::endpoint &client, uint8_t protocol,
	                                    uint16_t internal_port) {
		return std::find_if(table.begin(), table.end(), [&](const Mapping &e) {
			return e.client.address() == client.address() && e.protocol == protocol &&
			       e.internal_port == internal_port;
		});
	}

	bool port_free(uint8_t protocol, uint16_t port) const {
		return std::none_of(table.begin(), table.end(), [&](const Mapping &e) {
			return e.external_port == port &&
			       (e.protocol == protocol || e.protocol == 0 || protocol == 0);
		});
	}

	// The suggested port when it is free, else the next free one from 40000.
	std::optional<uint16_t> choose_port(uint8_t protocol, uint16_t suggested) {
		if (suggested != 0 && port_free(protocol, suggested))
			return suggested;
		for (unsigned tries = 0; tries < 65536; ++tries) {
			uint16_t p = next_port;
			next_port = next_port == 65535 ? 1024 : uint16_t(next_port + 1);
			if (port_free(protocol, p))
				return p;
		}
		return std::nullopt;
	}
};

PcpResponder::PcpResponder() : PcpResponder(asio::ip::make_address_v4("127.0.0.1")) {}
PcpResponder::PcpResponder(const asio::ip::address &bind_address, uint16_t port)
    : impl_(std::make_unique<Impl>(bind_address, port)) {}
PcpResponder::~PcpResponder() = default;

uint16_t PcpResponder::port() const noexcept {
	return impl_->local.port();
}
udp::endpoint PcpResponder::endpoint() const {
	return impl_->local;
}

void PcpResponder::set_mode(Mode mode) {
	std::lock_guard lk(impl_->m);
	impl_->mode = mode;
}

void PcpResponder::close() {
	impl_->run_on_loop([this] {
		std::error_code ignored;
		impl_->socket.close(ignored);
		impl_->other.close(ignored);
	});
}

void PcpResponder::drop_next(unsigned n) {
	std::lock_guard lk(impl_->m);
	impl_->drop = n;
}

void PcpResponder::set_delay(std::chrono::milliseconds d) {
	std::lock_guard lk(impl_->m);
	impl_->delay = d;
}

void PcpResponder::force_pcp_result(PcpResult result, unsigned n,
                                    std::optional<uint16_t> internal_port) {
	std::lock_guard lk(impl_->m);
	impl_->forced_pcp = Forced{n, int(result), internal_port};
}

void PcpResponder::force_natpmp_result(NatPmpResult result, unsigned n,
                                       std::optional<uint16_t> internal_port) {
	std::lock_guard lk(impl_->m);
	impl_->forced_natpmp = Forced{n, int(result), internal_port};
}

void PcpResponder::wrong_nonce_next(unsigned n) {
	std::lock_guard lk(impl_->m);
	impl_->wrong_nonce = n;
}

void PcpResponder::wrong_source_next(unsigned n) {
	std::lock_guard lk(impl_->m);
	impl_->wrong_source = n;
}

void PcpResponder::restart() {
	std::lock_guard lk(impl_->m);
	impl_->table.clear();
	impl_->epoch_base = 0;
	impl_->epoch_start = Clock::now();
}

void PcpResponder::set_epoch(uint32_t seconds) {
	std::lock_guard lk(impl_->m);
	impl_->epoch_base = seconds;
	impl_->epoch_start = Clock::now();
}

void PcpResponder::set_external_address(const asio::ip::address_v4 &address) {
	std::lock_guard lk(impl_->m);
	impl_->external = address;
}

void PcpResponder::set_max_lifetime(uint32_t seconds) {
	std::lock_guard lk(impl_->m);
	impl_->max_lifetime = seconds;
}

void PcpResponder::set_natpmp_short_errors(bool on) {
	std::lock_guard lk(impl_->m);
	impl_->natpmp_short_errors = on;
}

void PcpResponder::set_check_client_address(bool on) {
	std::lock_guard lk(impl_->m);
	impl_->check_client_address = on;
}

void PcpResponder::send_announce(const udp::endpoint &to) {
	impl_->run_on_loop([this, to] {
		Bytes wire;
		{
			std::lock_guard lk(impl_->m);
			Response res;
			res.opcode = Opcode::Announce;
			res.epoch = impl_->epoch_now();
			wire = encode_response(res);
		}
		std::error_code ignored;
		if (impl_->socket.is_open())
			impl_->socket.send_to(asio::buffer(wire), to, 0, ignored);
	});
}

void PcpResponder::send_natpmp_notice(const udp::endpoint &to) {
	impl_->run_on_loop([this, to] {
		Bytes wire;
		{
			std::lock_guard lk(impl_->m);
			NatPmpResponse res;
			res.op = NatPmpOp::ExternalAddress;
			res.epoch = impl_->epoch_now();
			res.external_address = impl_->external;
			wire = encode_natpmp_response(res);
		}
		std::error_code ignored;
		if (impl_->socket.is_open())
			impl_->socket.send_to(asio::buffer(wire), to, 0, ignored);
	});
}

std::vector<PcpResponder::Mapping> PcpResponder::mappings() const {
	std::lock_guard lk(impl_->m);
	auto now = Clock::now();
	std::vector<Mapping> live;
	for (const auto &e : impl_->table)
		if (e.expires > now)
			live.push_back(e);
	return live;
}

PcpResponder::Counters PcpResponder::counters() const {
	std::lock_guard lk(impl_->m);
	return impl_->counters;
}

uint32_t PcpResponder::epoch() const {
	std::lock_guard lk(impl_->m);
	return impl_->epoch_now();
}

asio::ip::address_v4 PcpResponder::external_address() const {
	std::lock_guard lk(impl_->m);
	return impl_->external;
}

std::optional<Request> PcpResponder::last_pcp_request() const {
	std::lock_guard lk(impl_->m);
	return impl_->last_pcp;
}

std::optional<NatPmpRequest> PcpResponder::last_natpmp_request() const {
	std::lock_guard lk(impl_->m);
	return impl_->last_natpmp;
}

bool PcpResponder::wait_until(const std::function<bool()> &pred,
                              std::chrono::milliseconds timeout) const {
	const auto deadline = Clock::now() + timeout;
	for (;;) {
		if (pred())
			return true;
		auto now = Clock::now();
		if (now >= deadline)
			return false;
		std::unique_lock lk(impl_->wait_m);
		uint64_t seen = impl_->generation;
		impl_->wait_cv.wait_for(
		    lk, std::min<Clock::duration>(deadline - now, std::chrono::milliseconds(5)),
		    [&] { return impl_->generation != seen; });
	}
}

} // namespace plum::test
