#include "plum/plum.hpp"

namespace plum {

std::string_view to_string(IpProtocol p) noexcept {
	return p == IpProtocol::Udp ? "UDP" : "TCP";
}

std::string_view to_string(State s) noexcept {
	switch (s) {
	case State::Destroyed: return "DESTROYED";
	case State::Pending: return "PENDING";
	case State::Success: return "SUCCESS";
	case State::Failure: return "FAILURE";
	case State::Destroying: return "DESTROYING";
	}
	return "?";
}

std::string_view to_string(MappingProtocol p) noexcept {
	switch (p) {
	case MappingProtocol::Unknown: return "Unknown";
	case MappingProtocol::Pcp: return "PCP";
	case MappingProtocol::NatPmp: return "NAT-PMP";
	case MappingProtocol::Upnp: return "UPnP";
	case MappingProtocol::Direct: return "Direct";
	}
	return "?";
}

std::string_view to_string(LogLevel l) noexcept {
	switch (l) {
	case LogLevel::Verbose: return "VERBOSE";
	case LogLevel::Debug: return "DEBUG";
	case LogLevel::Info: return "INFO";
	case LogLevel::Warn: return "WARN";
	case LogLevel::Error: return "ERROR";
	case LogLevel::Fatal: return "FATAL";
	case LogLevel::None: return "NONE";
	}
	return "?";
}

} // namespace plum
