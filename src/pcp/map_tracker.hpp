// The MAP requests of each mapping that are still waiting for an answer,
// so that deleting the mapping can overtake them. Without this, a mapping
// destroyed while its MAP is queued behind the in-flight window (cleanup
// right after creating a thousand) would be created on the router and only
// then deleted; and a MAP still being retransmitted after the delete went
// out could re-create it.
//
// withdraw() drops a queued request unsent and stops retransmitting one on
// the wire; the caller then sends the delete only when something reached
// the router (or the mapping was granted before). The router answers in
// order on one socket, so a MAP already sent is processed before the
// delete that follows it.
#pragma once

#include "pcp/udp_exchange.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace plum::pcp {

class MapTracker {
public:
	struct Ticket {
		UdpExchange::Id id = 0; // 0 until the request is handed to the exchange
		bool withdrawn = false; // a delete overtook it: do not send it any more
	};
	struct Withdrawal {
		bool any = false;  // a MAP of this mapping was pending
		bool sent = false; // and at least one reached the wire
	};

	std::shared_ptr<Ticket> open(const std::string &mapping) {
		auto t = std::make_shared<Ticket>();
		tickets_[mapping].push_back(t);
		return t;
	}

	void close(const std::string &mapping, const std::shared_ptr<Ticket> &ticket) {
		auto it = tickets_.find(mapping);
		if (it == tickets_.end())
			return;
		auto &list = it->second;
		std::erase(list, ticket);
		if (list.empty())
			tickets_.erase(it);
	}

	Withdrawal withdraw(const std::string &mapping, UdpExchange &exchange) {
		Withdrawal w;
		auto it = tickets_.find(mapping);
		if (it == tickets_.end())
			return w;
		const auto list = it->second; // cancel() may come back to close()
		for (const auto &t : list) {
			w.any = true;
			t->withdrawn = true;
			if (t->id) {
				w.sent = w.sent || exchange.transmitted(t->id);
				exchange.cancel(t->id);
			}
		}
		return w;
	}

private:
	std::map<std::string, std::vector<std::shared_ptr<Ticket>>> tickets_;
};

} // namespace plum::pcp
