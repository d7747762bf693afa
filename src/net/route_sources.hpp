// A platform may have more than one way to read its routing and address
// tables (Linux: netlink, then /proc, which Android apps cannot read). Its
// route_<platform>.cpp lists them in order of preference; the first that
// answers a question answers it. Portable, so the order is tested anywhere
// with fake sources.
#pragma once

#include "net/route.hpp"
#include "plum/result.hpp"

#include <functional>
#include <string>
#include <vector>

namespace plum::net {

struct RouteSource {
	std::string name; // "netlink", "/proc"
	std::function<Result<asio::ip::address_v4>()> gateway;
	std::function<Result<Gateway6>()> gateway6;
	std::function<Result<asio::ip::address_v6>(unsigned interface_index)> global_address6;
};

// Asks each source in turn (`ask(source)`), returning the first answer.
// When none answers: the last source's error, its message prefixed by
// every source's reason ("netlink: ...; /proc: ...").
template <class Ask>
auto first_answer(const std::vector<RouteSource> &sources, Ask ask)
    -> decltype(ask(sources.front())) {
	std::string reasons;
	std::error_code code = Errc::no_gateway;
	for (const auto &source : sources) {
		auto answer = ask(source);
		if (answer)
			return answer;
		if (!reasons.empty())
			reasons += "; ";
		const Error &e = answer.error();
		reasons += source.name + ": " + (e.context().empty() ? e.message() : e.context());
		code = answer.error().code();
	}
	if (sources.empty())
		reasons = "no source of routes on this platform";
	return Error(code, reasons);
}

} // namespace plum::net
