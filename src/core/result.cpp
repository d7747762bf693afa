#include "plum/result.hpp"

namespace plum {

namespace {

class PlumCategory final : public std::error_category {
public:
	const char *name() const noexcept override { return "plum"; }
	std::string message(int ev) const override {
		switch (static_cast<Errc>(ev)) {
		case Errc::ok: return "success";
		case Errc::invalid_argument: return "invalid argument";
		case Errc::not_initialized: return "not initialized";
		case Errc::already_initialized: return "already initialized";
		case Errc::timeout: return "timed out";
		case Errc::cancelled: return "cancelled";
		case Errc::no_gateway: return "no gateway";
		case Errc::unreachable: return "port unreachable";
		case Errc::unsupported: return "not supported by the gateway";
		case Errc::malformed: return "malformed input";
		case Errc::truncated: return "truncated input";
		case Errc::too_large: return "input too large";
		case Errc::untrusted: return "untrusted source";
		case Errc::failed: return "failed";
		}
		return "unknown error " + std::to_string(ev);
	}
};

} // namespace

const std::error_category &plum_category() noexcept {
	static const PlumCategory category;
	return category;
}

} // namespace plum
