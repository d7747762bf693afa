#include "pcp/pcp_errors.hpp"

#include <string>

namespace plum::pcp {

std::string_view to_string(PcpResult r) noexcept {
	switch (r) {
	case PcpResult::Success: return "SUCCESS";
	case PcpResult::UnsuppVersion: return "UNSUPP_VERSION";
	case PcpResult::NotAuthorized: return "NOT_AUTHORIZED";
	case PcpResult::MalformedRequest: return "MALFORMED_REQUEST";
	case PcpResult::UnsuppOpcode: return "UNSUPP_OPCODE";
	case PcpResult::UnsuppOption: return "UNSUPP_OPTION";
	case PcpResult::MalformedOption: return "MALFORMED_OPTION";
	case PcpResult::NetworkFailure: return "NETWORK_FAILURE";
	case PcpResult::NoResources: return "NO_RESOURCES";
	case PcpResult::UnsuppProtocol: return "UNSUPP_PROTOCOL";
	case PcpResult::UserExQuota: return "USER_EX_QUOTA";
	case PcpResult::CannotProvideExternal: return "CANNOT_PROVIDE_EXTERNAL";
	case PcpResult::AddressMismatch: return "ADDRESS_MISMATCH";
	case PcpResult::ExcessiveRemotePeers: return "EXCESSIVE_REMOTE_PEERS";
	}
	return {};
}

std::string_view to_string(NatPmpResult r) noexcept {
	switch (r) {
	case NatPmpResult::Success: return "SUCCESS";
	case NatPmpResult::UnsuppVersion: return "UNSUPP_VERSION";
	case NatPmpResult::NotAuthorized: return "NOT_AUTHORIZED";
	case NatPmpResult::NetworkFailure: return "NETWORK_FAILURE";
	case NatPmpResult::OutOfResources: return "OUT_OF_RESOURCES";
	case NatPmpResult::UnsuppOpcode: return "UNSUPP_OPCODE";
	}
	return {};
}

bool is_transient(PcpResult r) noexcept {
	switch (r) {
	case PcpResult::NetworkFailure:
	case PcpResult::NoResources:
	case PcpResult::UserExQuota:
	case PcpResult::CannotProvideExternal: return true;
	default: return false;
	}
}

bool is_transient(NatPmpResult r) noexcept {
	return r == NatPmpResult::NetworkFailure || r == NatPmpResult::OutOfResources;
}

namespace {

// The wire value is what the category sees; values outside the enum (a
// server from the future) still print something useful.
class PcpCategory final : public std::error_category {
public:
	const char *name() const noexcept override { return "PCP"; }
	std::string message(int ev) const override {
		if (ev >= 0 && ev <= 255) {
			auto s = to_string(static_cast<PcpResult>(ev));
			if (!s.empty())
				return std::string(s);
		}
		return "result " + std::to_string(ev);
	}
};

class NatPmpCategory final : public std::error_category {
public:
	const char *name() const noexcept override { return "NAT-PMP"; }
	std::string message(int ev) const override {
		if (ev >= 0 && ev <= 65535) {
			auto s = to_string(static_cast<NatPmpResult>(ev));
			if (!s.empty())
				return std::string(s);
		}
		return "result " + std::to_string(ev);
	}
};

} // namespace

const std::error_category &pcp_category() noexcept {
	static const PcpCategory category;
	return category;
}

const std::error_category &natpmp_category() noexcept {
	static const NatPmpCategory category;
	return category;
}

std::error_code make_error_code(PcpResult r) noexcept {
	return {static_cast<int>(r), pcp_category()};
}

std::error_code make_error_code(NatPmpResult r) noexcept {
	return {static_cast<int>(r), natpmp_category()};
}

} // namespace plum::pcp
