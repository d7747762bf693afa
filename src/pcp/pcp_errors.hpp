// Result codes of PCP (RFC 6887 §7.4) and NAT-PMP (RFC 6886 §3.5), each with
// its own std::error_category so that an error prints as "PCP: NO_RESOURCES"
// or "NAT-PMP: OUT_OF_RESOURCES" instead of a bare number.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace plum::pcp {

// RFC 6887 §7.4. Values above 13 may arrive on the wire; they are carried
// as-is (static_cast) and print as "result N".
enum class PcpResult : uint8_t {
	Success = 0,
	UnsuppVersion = 1,
	NotAuthorized = 2,
	MalformedRequest = 3,
	UnsuppOpcode = 4,
	UnsuppOption = 5,
	MalformedOption = 6,
	NetworkFailure = 7,
	NoResources = 8,
	UnsuppProtocol = 9,
	UserExQuota = 10,
	CannotProvideExternal = 11,
	AddressMismatch = 12,
	ExcessiveRemotePeers = 13,
};

// RFC 6886 §3.5.
enum class NatPmpResult : uint16_t {
	Success = 0,
	UnsuppVersion = 1,
	NotAuthorized = 2,
	NetworkFailure = 3,
	OutOfResources = 4,
	UnsuppOpcode = 5,
};

} // namespace plum::pcp

template <> struct std::is_error_code_enum<plum::pcp::PcpResult> : std::true_type {};
template <> struct std::is_error_code_enum<plum::pcp::NatPmpResult> : std::true_type {};

namespace plum::pcp {

// name() "PCP"; message() the RFC name ("NO_RESOURCES"), "result 42" if unknown.
const std::error_category &pcp_category() noexcept;
// name() "NAT-PMP"; message() "OUT_OF_RESOURCES" etc.
const std::error_category &natpmp_category() noexcept;

std::error_code make_error_code(PcpResult r) noexcept;
std::error_code make_error_code(NatPmpResult r) noexcept;

// The RFC name of a code ("NO_RESOURCES"), or an empty view if unknown.
std::string_view to_string(PcpResult r) noexcept;
std::string_view to_string(NatPmpResult r) noexcept;

// Whether asking again later may succeed. RFC 6887 §7.4 calls
// NETWORK_FAILURE, NO_RESOURCES and USER_EX_QUOTA "short lifetime" errors
// (the condition may clear soon); CANNOT_PROVIDE_EXTERNAL is counted with
// them because the wanted port may be freed later. Everything else is a
// "long lifetime" error (policy, or a request the server will never accept):
// asking again gets the same answer. Success is not transient.
bool is_transient(PcpResult r) noexcept;
// NAT-PMP: NETWORK_FAILURE and OUT_OF_RESOURCES may clear by themselves.
bool is_transient(NatPmpResult r) noexcept;

} // namespace plum::pcp
