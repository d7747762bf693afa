// Private to the UPnP client's files: the operations it tracks (one per
// probe, map, unmap or confirmation, each with one completion), the SOAP
// jobs queued for them, and the small rules they share.
#pragma once

#include "upnp/upnp_client.hpp"

#include "http/http_errors.hpp"
#include "upnp/upnp_errors.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace plum::upnp {

namespace detail {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// No request to a gateway that answered gets less than this, even at the
// end of a probe: some routers take 3-4 s per SOAP call, and a request cut
// short there turns a mapping about to succeed into a FAILURE.
constexpr milliseconds kMinCallTime{5000};

inline const char *protocol_name(IpProtocol p) {
	return p == IpProtocol::Tcp ? "TCP" : "UDP";
}

inline bool is(const Error &e, UpnpError code) {
	return e.code() == make_error_code(code);
}

// Transport failures the engine should read as "the router is gone":
// timeouts stay timeouts, every failure to connect, send or receive is
// unreachable. Parser verdicts (too_large, truncated, malformed) are the
// router's fault, not the path's, and keep their code.
inline Error transport_error(const Error &e, const std::string &what) {
	const std::string context = what + ": " + e.message();
	if (e.code().category() == http::http_category())
		return Error(Errc::unreachable, context);
	return Error(e.code(), context);
}

inline milliseconds at_least(milliseconds t, milliseconds floor) {
	return t < floor ? floor : t;
}

} // namespace detail

struct UpnpClient::Op {
	explicit Op(asio::io_context &io_) : io(io_) {}
	virtual ~Op() = default;
	Op(const Op &) = delete;
	Op &operator=(const Op &) = delete;
	// Completes with e (posted) unless already complete.
	virtual void abort(Error e) = 0;

	asio::io_context &io;
	uint64_t id = 0;
	bool finished = false;
	bool sent = false; // one of its SOAP requests went out
};

template <class T> struct UpnpClient::Pending : Op {
	Pending(asio::io_context &io_, std::function<void(Result<T>)> d)
	    : Op(io_), done(std::move(d)) {}

	// Posts the completion once; false when it had already happened.
	bool finish(Result<T> result) {
		if (finished)
			return false;
		finished = true;
		release();
		asio::post(io, [d = std::move(done), r = std::move(result)]() mutable { d(std::move(r)); });
		done = nullptr;
		return true;
	}
	void abort(Error e) override { finish(std::move(e)); }
	// Stops what the operation owns (timers, searches, a GET).
	virtual void release() {}

	std::function<void(Result<T>)> done;
};

struct UpnpClient::ProbeOp : Pending<engine::ProbeResult> {
	enum class Phase { Ssdp, Description, Status, ExternalIp };

	ProbeOp(asio::io_context &io_, std::function<void(Result<engine::ProbeResult>)> d)
	    : Pending(io_, std::move(d)), deadline(io_) {}

	void release() override {
		deadline.cancel();
		if (search)
			search->cancel();
		get.cancel();
	}

	const char *phase_name() const {
		switch (phase) {
		case Phase::Ssdp: return "no IGD answered SSDP";
		case Phase::Description: return "no device description in time";
		case Phase::Status: return "no GetStatusInfo answer in time";
		case Phase::ExternalIp: return "no GetExternalIPAddress answer in time";
		}
		return "";
	}

	Phase phase = Phase::Ssdp;
	detail::Clock::time_point started = detail::Clock::now();
	asio::steady_timer deadline;
	std::unique_ptr<SsdpSearch> search;
	http::RequestHandle get;
	Description desc;
	size_t next_status = 0; // the next service to ask GetStatusInfo
	size_t chosen = 0;
	bool advertised = false; // probing an advertised LOCATION, not a search's
	std::string usn;         // of the SSDP answer
};

struct UpnpClient::MapOp : Pending<engine::MapGrant> {
	using Pending::Pending;

	engine::MapRequest request;
	Service service;
	uint16_t external_port = 0;
	uint32_t lease = 0;
	int attempts = 0;
	int conflict_tries = 0;
	bool any_failed = false;      // AddAnyPortMapping is not implemented after all
	bool same_port_tried = false; // 724
	bool wildcard_tried = false;  // 716 / 727
	std::vector<uint16_t> tried_ports;
};

struct UpnpClient::SoapJob {
	std::shared_ptr<Op> op;
	std::string action;
	std::string where; // "AddPortMapping at http://..." for errors and logs
	http::Request request;
	http::Limits limits;
	SoapDone then;
	http::RequestHandle handle;
};

template <class T>
void UpnpClient::complete(const std::shared_ptr<Pending<T>> &op, Result<T> result) {
	if (!op->finish(std::move(result)))
		return;
	ops_.erase(op->id);
	drop_jobs(op->id);
}

} // namespace plum::upnp
