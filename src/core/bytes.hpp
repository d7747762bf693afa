// One bounds-checked cursor for reading network input and one for writing
// packets. Every codec goes through these: no other code indexes raw packet
// memory. A read past the end fails (and keeps failing) instead of
// overrunning; callers check ok() once at the end or test each step.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace plum {

using Bytes = std::vector<std::byte>;
using ByteSpan = std::span<const std::byte>;

inline ByteSpan as_bytes(std::string_view s) noexcept {
	return {reinterpret_cast<const std::byte *>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteSpan b) noexcept {
	return {reinterpret_cast<const char *>(b.data()), b.size()};
}

class ByteReader {
public:
	explicit ByteReader(ByteSpan data) noexcept : data_(data) {}

	bool ok() const noexcept { return ok_; }
	size_t remaining() const noexcept { return ok_ ? data_.size() - pos_ : 0; }
	size_t position() const noexcept { return pos_; }
	bool at_end() const noexcept { return remaining() == 0; }

	uint8_t u8() noexcept {
		if (!take(1))
			return 0;
		return std::to_integer<uint8_t>(data_[pos_ - 1]);
	}
	uint16_t u16be() noexcept {
		if (!take(2))
			return 0;
		return static_cast<uint16_t>((byte_at(pos_ - 2) << 8) | byte_at(pos_ - 1));
	}
	uint32_t u32be() noexcept {
		if (!take(4))
			return 0;
		return (uint32_t(byte_at(pos_ - 4)) << 24) | (uint32_t(byte_at(pos_ - 3)) << 16) |
		       (uint32_t(byte_at(pos_ - 2)) << 8) | uint32_t(byte_at(pos_ - 1));
	}
	// Copies n bytes into out; out is zero-filled on failure.
	template <size_t N> std::array<uint8_t, N> array() noexcept {
		std::array<uint8_t, N> out{};
		if (take(N))
			std::memcpy(out.data(), data_.data() + pos_ - N, N);
		return out;
	}
	// A view of the next n bytes (empty on failure).
	ByteSpan span(size_t n) noexcept {
		if (!take(n))
			return {};
		return data_.subspan(pos_ - n, n);
	}
	bool skip(size_t n) noexcept { return take(n); }
	// The rest of the input, consumed.
	ByteSpan rest() noexcept { return span(remaining()); }

private:
	unsigned byte_at(size_t i) const noexcept { return std::to_integer<unsigned>(data_[i]); }
	bool take(size_t n) noexcept {
		if (!ok_ || n > data_.size() - pos_) {
			ok_ = false;
			return false;
		}
		pos_ += n;
		return true;
	}

	ByteSpan data_;
	size_t pos_ = 0;
	bool ok_ = true;
};

class ByteWriter {
public:
	ByteWriter() = default;
	explicit ByteWriter(size_t reserve) { out_.reserve(reserve); }

	ByteWriter &u8(uint8_t v) {
		out_.push_back(std::byte{v});
		return *this;
	}
	ByteWriter &u16be(uint16_t v) { return u8(uint8_t(v >> 8)).u8(uint8_t(v)); }
	ByteWriter &u32be(uint32_t v) { return u16be(uint16_t(v >> 16)).u16be(uint16_t(v)); }
	template <size_t N> ByteWriter &array(const std::array<uint8_t, N> &a) {
		for (uint8_t b : a)
			u8(b);
		return *this;
	}
	ByteWriter &bytes(ByteSpan b) {
		out_.insert(out_.end(), b.begin(), b.end());
		return *this;
	}
	ByteWriter &zeros(size_t n) {
		out_.insert(out_.end(), n, std::byte{0});
		return *this;
	}
	size_t size() const noexcept { return out_.size(); }
	const Bytes &data() const & noexcept { return out_; }
	Bytes take() && noexcept { return std::move(out_); }

private:
	Bytes out_;
};

} // namespace plum
