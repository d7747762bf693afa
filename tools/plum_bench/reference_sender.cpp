#include "reference_sender.hpp"

#include "pcp/pcp_codec.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>

namespace plum::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr int kMaxTries = 5;

struct Outcome {
	int ok = 0;
	int refused = 0; // a result code other than SUCCESS
	int lost = 0;    // no answer after kMaxTries
	int retransmits = 0;
};

class Sender {
public:
	Sender(const Options &o) : o_(o) {}
	~Sender() {
		if (fd_ >= 0)
			::close(fd_);
	}

	Result<void> open() {
		asio::error_code ec;
		local_ = asio::ip::make_address_v4(o_.local, ec);
		if (ec)
			return Error(Errc::invalid_argument, "bad --local");
		const auto gw = asio::ip::make_address_v4(o_.gateway, ec);
		if (ec)
			return Error(Errc::invalid_argument, "bad --gateway");
		fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
		if (fd_ < 0)
			return Error(Errc::failed, "socket");
		sockaddr_in me{};
		me.sin_family = AF_INET;
		me.sin_addr.s_addr = htonl(local_.to_uint());
		sockaddr_in to{};
		to.sin_family = AF_INET;
		to.sin_port = htons(o_.pcp_port ? o_.pcp_port : 5351);
		to.sin_addr.s_addr = htonl(gw.to_uint());
		if (::bind(fd_, reinterpret_cast<sockaddr *>(&me), sizeof me) != 0 ||
		    ::connect(fd_, reinterpret_cast<sockaddr *>(&to), sizeof to) != 0)
			return Error(Errc::failed, "bind/connect");
		return {};
	}

	// One MAP (lifetime > 0) or delete (lifetime 0), retransmitted every
	// rto_ms until an answer with our nonce comes or kMaxTries are spent.
	void exchange(uint16_t port, const std::array<uint8_t, 12> &nonce, uint32_t lifetime,
	              Outcome &out) {
		pcp::Request req;
		req.opcode = pcp::Opcode::Map;
		req.lifetime = lifetime;
		req.client_address = pcp::to_v4_mapped(local_);
		pcp::MapData m;
		m.nonce = nonce;
		m.protocol = o_.udp ? kUdp : kTcp;
		m.internal_port = port;
		m.external_port = port;
		m.external_address = pcp::to_v4_mapped(asio::ip::address_v4::any());
		req.map = m;
		const Bytes wire = pcp::encode_request(req);
		for (int attempt = 0; attempt < kMaxTries; ++attempt) {
			if (attempt > 0)
				++out.retransmits;
			if (::send(fd_, wire.data(), wire.size(), 0) < 0)
				continue; // an ICMP error from the last send: try again after the timeout
			const auto deadline = Clock::now() + std::chrono::milliseconds(o_.rto_ms);
			while (Clock::now() < deadline) {
				const auto left =
				    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
				pollfd p{fd_, POLLIN, 0};
				if (::poll(&p, 1, int(left.count()) + 1) <= 0)
					break;
				std::byte buf[pcp::kPcpMaxPacket];
				const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
				if (got <= 0)
					continue;
				auto resp = pcp::decode_response(ByteSpan(buf, size_t(got)));
				if (!resp.ok() || !resp->map || resp->map->nonce != nonce ||
				    resp->map->internal_port != port)
					continue; // a late answer to an earlier request
				if (resp->result == pcp::PcpResult::Success)
					++out.ok;
				else
					++out.refused;
				return;
			}
		}
		++out.lost;
	}

	// One ANNOUNCE (what plum's probe sends): the time of its round trip in
	// ms, or -1 without an answer within rto_ms.
	double announce() {
		pcp::Request req;
		req.opcode = pcp::Opcode::Announce;
		req.client_address = pcp::to_v4_mapped(local_);
		const Bytes wire = pcp::encode_request(req);
		const auto t0 = Clock::now();
		if (::send(fd_, wire.data(), wire.size(), 0) < 0)
			return -1;
		const auto deadline = t0 + std::chrono::milliseconds(o_.rto_ms);
		while (Clock::now() < deadline) {
			pollfd p{fd_, POLLIN, 0};
			if (::poll(&p, 1, 50) <= 0)
				continue;
			std::byte buf[pcp::kPcpMaxPacket];
			const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
			if (got <= 0)
				continue;
			auto resp = pcp::decode_response(ByteSpan(buf, size_t(got)));
			if (resp.ok() && resp->opcode == pcp::Opcode::Announce)
				return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
		}
		return -1;
	}

private:
	const Options &o_;
	int fd_ = -1;
	asio::ip::address_v4 local_;
};

void add(JsonOut &j, const char *prefix, const Outcome &out, double ms) {
	const std::string p = prefix;
	j.add(p + "_ms", ms)
	    .add(p + "_ok", out.ok)
	    .add(p + "_refused", out.refused)
	    .add(p + "_lost", out.lost)
	    .add(p + "_retransmits", out.retransmits);
}

} // namespace

JsonOut run_reference_sender(const Options &o) {
	JsonOut j;
	j.add("mode", "floor").add("n", o.n).add("rto_ms", o.rto_ms);
	Sender s(o);
	if (auto r = s.open(); !r.ok()) {
		j.add("error", r.error().message());
		return j;
	}
	std::mt19937 rng(std::random_device{}());
	std::vector<std::array<uint8_t, 12>> nonces(size_t(o.n));
	for (auto &nonce : nonces)
		for (auto &b : nonce)
			b = uint8_t(rng());

	j.add("announce_ms", s.announce());
	Outcome mapped;
	auto t0 = Clock::now();
	for (int i = 0; i < o.n; ++i)
		s.exchange(uint16_t(o.base_port + i), nonces[size_t(i)], 3600, mapped);
	add(j, "map", mapped, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());

	Outcome deleted;
	t0 = Clock::now();
	for (int i = 0; i < o.n; ++i)
		s.exchange(uint16_t(o.base_port + i), nonces[size_t(i)], 0, deleted);
	add(j, "delete", deleted, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
	return j;
}

} // namespace plum::bench
