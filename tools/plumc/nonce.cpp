#include "nonce.hpp"

#include <string_view>

namespace plum::plumc {

namespace {

// splitmix64's finalizer: spreads the FNV hash over all 96 bits we need.
uint64_t mix(uint64_t z) {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

} // namespace

std::array<uint8_t, 12> oneshot_nonce(const asio::ip::address_v4 &local, IpProtocol protocol,
                                      uint16_t internal_port) {
	// FNV-1a over a versioned tag and the mapping's identity. The tag keeps
	// these nonces apart from any other scheme, and lets a future plumc
	// change the derivation without colliding with old mappings.
	uint64_t h = 0xcbf29ce484222325ULL;
	auto feed = [&h](uint8_t b) {
		h ^= b;
		h *= 0x100000001b3ULL;
	};
	for (char c : std::string_view("plumc one-shot nonce v1"))
		feed(static_cast<uint8_t>(c));
	for (uint8_t b : local.to_bytes())
		feed(b);
	feed(protocol == IpProtocol::Udp ? 17 : 6);
	feed(static_cast<uint8_t>(internal_port >> 8));
	feed(static_cast<uint8_t>(internal_port & 0xff));

	std::array<uint8_t, 12> nonce{};
	const uint64_t a = mix(h);
	const uint64_t b = mix(h + 0x9e3779b97f4a7c15ULL);
	for (size_t i = 0; i < 8; ++i)
		nonce[i] = static_cast<uint8_t>(a >> (8 * i));
	for (size_t i = 0; i < 4; ++i)
		nonce[8 + i] = static_cast<uint8_t>(b >> (8 * i));
	return nonce;
}

} // namespace plum::plumc
