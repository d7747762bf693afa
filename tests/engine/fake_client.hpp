// A scripted ProtocolClient for engine tests: no sockets, answers through
// the io_context after a chosen delay, records what it was asked.
#pragma once

#include "engine/protocol.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace plum::test {

class FakeClient final : public engine::ProtocolClient {
public:
	struct Script {
		bool answers = true;              // probe succeeds
		Error probe_error{Errc::timeout}; // when it does not
		std::chrono::milliseconds probe_delay{1};
		std::chrono::milliseconds map_delay{1};
		std::string external = "203.0.113.7";
		uint32_t lifetime = 3600;
		std::map<uint16_t, Error> refuse; // internal port → error
		// During a probe, the gateway shows life (events.gateway_answered)
		// this long after it starts, before the probe completes.
		std::optional<std::chrono::milliseconds> alive_after;
	};

	FakeClient(asio::io_context &io, MappingProtocol kind, Script script)
	    : io_(io), kind_(kind), script_(std::move(script)) {}

	MappingProtocol kind() const noexcept override { return kind_; }
	void set_events(engine::ProtocolEvents e) override { events = std::move(e); }

	void probe(std::function<void(Result<engine::ProbeResult>)> done) override {
		++probes;
		if (script_.alive_after)
			later(*script_.alive_after, [this](bool aborted) {
				if (!aborted && events.gateway_answered)
					events.gateway_answered();
			});
		later(script_.probe_delay, [this, done = std::move(done)](bool aborted) {
			if (aborted)
				return done(Errc::cancelled);
			if (!script_.answers)
				return done(script_.probe_error);
			engine::ProbeResult r;
			r.external_address = asio::ip::make_address(script_.external);
			done(r);
		});
	}
	void map(const engine::MapRequest &req,
	         std::function<void(Result<engine::MapGrant>)> done) override {
		++maps;
		later(script_.map_delay, [this, req, done = std::move(done)](bool aborted) {
			if (aborted)
				return done(Errc::cancelled);
			if (!script_.answers)
				return done(script_.probe_error);
			if (auto it = script_.refuse.find(req.internal_port); it != script_.refuse.end())
				return done(it->second);
			engine::MapGrant g;
			g.external_address = asio::ip::make_address(script_.external);
			g.external_port =
			    req.external_port ? req.external_port : uint16_t(req.internal_port + 10000);
			g.internal_port = req.internal_port;
			g.lifetime = script_.lifetime;
			held[req.internal_port] = g.external_port;
			done(g);
		});
	}
	void unmap(const engine::MapRequest &req, std::function<void(Result<void>)> done) override {
		++unmaps;
		later(script_.map_delay, [this, req, done = std::move(done)](bool aborted) {
			if (aborted)
				return done(Errc::cancelled);
			held.erase(req.internal_port);
			done(Result<void>());
		});
	}
	void cancel() override {
		++cancels;
		auto pending = std::move(timers_);
		timers_.clear();
		for (auto &t : pending)
			t->cancel();
	}

	Script &script() { return script_; }

	engine::ProtocolEvents events;
	int probes = 0, maps = 0, unmaps = 0, cancels = 0;
	std::map<uint16_t, uint16_t> held; // internal → external port on the "router"

private:
	template <class F> void later(std::chrono::milliseconds d, F f) {
		auto t = std::make_shared<asio::steady_timer>(io_, d);
		timers_.push_back(t);
		t->async_wait([t, f = std::move(f)](std::error_code ec) mutable { f(bool(ec)); });
	}

	asio::io_context &io_;
	MappingProtocol kind_;
	Script script_;
	std::vector<std::shared_ptr<asio::steady_timer>> timers_;
};

// Runs the loop until pred() holds or the timeout passes; returns pred().
template <class Pred>
bool run_until(asio::io_context &io, Pred pred, std::chrono::milliseconds timeout) {
	const auto deadline = std::chrono::steady_clock::now() + timeout;
	while (!pred() && std::chrono::steady_clock::now() < deadline) {
		io.restart();
		io.run_for(std::chrono::milliseconds(2));
	}
	return pred();
}

} // namespace plum::test
