// The UPnP-IGD client: SSDP → description → SOAP, on the engine's
// io_context. Every public operation is an Op with one completion; SOAP
// requests are SoapJobs in one FIFO queue with a bounded number in flight.
#include "upnp/upnp_client.hpp"

#include "core/text.hpp"

#include "http/http_errors.hpp"
#include "upnp/upnp_errors.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <utility>

namespace plum::upnp {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Every refusal with a known way out costs a request; this bounds a map()
// whatever the router answers (1 + 725 + 718/AddAny + 4 ports + 724/716).
constexpr int kMaxMapAttempts = 10;
// No request to a gateway that answered gets less than this, even at the
// end of a probe: some routers take 3-4 s per SOAP call, and a request cut
// short there turns a mapping about to succeed into a FAILURE.
constexpr milliseconds kMinCallTime{5000};

const char *protocol_name(IpProtocol p) {
	return p == IpProtocol::Tcp ? "TCP" : "UDP";
}

bool is(const Error &e, UpnpError code) {
	return e.code() == make_error_code(code);
}

// Transport failures the engine should read as "the router is gone":
// timeouts stay timeouts, every failure to connect, send or receive is
// unreachable. Parser verdicts (too_large, truncated, malformed) are the
// router's fault, not the path's, and keep their code.
Error transport_error(const Error &e, const std::string &what) {
	const std::string context = what + ": " + e.message();
	if (e.code().category() == http::http_category())
		return Error(Errc::unreachable, context);
	return Error(e.code(), context);
}

milliseconds at_least(milliseconds t, milliseconds floor) {
	return t < floor ? floor : t;
}

} // namespace

// ---------------------------------------------------------------------------
// Operations

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
	Clock::time_point started = Clock::now();
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

// ---------------------------------------------------------------------------

UpnpClient::UpnpClient(asio::io_context &io, UpnpSettings settings, const Logger &logger)
    : io_(io), settings_(std::move(settings)), logger_(logger), random_(std::random_device{}()) {
	if (settings_.max_connections == 0)
		settings_.max_connections = 1;
}

UpnpClient::~UpnpClient() {
	alive_.reset();
	cancel();
}

const Service *UpnpClient::service() const noexcept {
	if (!description_ || service_index_ >= description_->services.size())
		return nullptr;
	return &description_->services[service_index_];
}

std::string UpnpClient::gateway_name() const {
	return settings_.gateway.to_string();
}

void UpnpClient::track(const std::shared_ptr<Op> &op) {
	op->id = next_op_id_++;
	ops_.emplace(op->id, op);
}

template <class T>
void UpnpClient::complete(const std::shared_ptr<Pending<T>> &op, Result<T> result) {
	if (!op->finish(std::move(result)))
		return;
	ops_.erase(op->id);
	drop_jobs(op->id);
}

void UpnpClient::drop_jobs(uint64_t op_id) {
	std::erase_if(queue_, [&](const auto &job) { return job->op->id == op_id; });
	// In-flight requests keep their slot until their (cancelled) completion
	// arrives: the socket is closed only then.
	for (const auto &job : in_flight_)
		if (job->op->id == op_id)
			job->handle.cancel();
}

void UpnpClient::cancel() {
	auto ops = std::move(ops_);
	ops_.clear();
	queue_.clear();
	for (const auto &job : in_flight_)
		job->handle.cancel();
	if (!ops.empty())
		logger_.debug("UPnP {}: cancelling {} operations", gateway_name(), ops.size());
	for (const auto &[id, op] : ops)
		op->abort(Error(Errc::cancelled, "UPnP operation cancelled"));
}

void UpnpClient::count_failure(const Error &e) {
	if (e == Errc::timeout)
		++counters_.timeouts;
	counters_.count_error(e);
}

void UpnpClient::learn_external(const asio::ip::address_v4 &address) {
	if (external_ && *external_ != address) {
		logger_.info("UPnP {}: external address changed from {} to {}", gateway_name(),
		             external_->to_string(), address.to_string());
		if (events_.external_address_changed)
			asio::post(io_, [f = events_.external_address_changed, a = asio::ip::address(address)] {
				f(a);
			});
	}
	external_ = address;
}

// ---------------------------------------------------------------------------
// SOAP queue

void UpnpClient::soap(const std::shared_ptr<Op> &op, const Service &service, std::string action,
                      SoapRequest request, milliseconds timeout, SoapDone then, bool urgent) {
	auto job = std::make_shared<SoapJob>();
	job->op = op;
	job->where = action + " at " + service.control_url.to_string();
	job->action = std::move(action);
	job->request.method = "POST";
	job->request.url = service.control_url;
	job->request.headers = {{"Content-Type", "text/xml; charset=\"utf-8\""},
	                        {"SOAPAction", std::move(request.soap_action)}};
	job->request.body = std::move(request.body);
	job->limits = settings_.http_limits;
	job->limits.total_timeout = timeout;
	job->limits.connect_timeout = std::min(job->limits.connect_timeout, timeout);
	job->then = std::move(then);
	// A probe's few requests go first: the engine waits on its verdict,
	// and behind a thousand queued renewals it would time out.
	if (urgent)
		queue_.push_front(std::move(job));
	else
		queue_.push_back(std::move(job));
	pump();
}

void UpnpClient::pump() {
	while (in_flight_.size() < settings_.max_connections && !queue_.empty()) {
		auto job = std::move(queue_.front());
		queue_.pop_front();
		if (job->op->finished)
			continue;
		in_flight_.push_back(job);
		job->op->sent = true;
		++counters_.requests;
		logger_.verbose("UPnP {}: {}", gateway_name(), job->where);
		std::weak_ptr<char> alive = alive_;
		job->handle = http::async_request(io_, job->request, job->limits,
		                                  [this, alive, job](Result<http::Response> reply) {
			                                  if (alive.expired())
				                                  return;
			                                  on_soap_reply(job, std::move(reply));
		                                  });
	}
}

void UpnpClient::on_soap_reply(const std::shared_ptr<SoapJob> &job, Result<http::Response> reply) {
	std::erase(in_flight_, job);
	pump();
	if (job->op->finished)
		return;
	if (!reply) {
		count_failure(reply.error());
		return job->then(transport_error(reply.error(), job->where));
	}
	auto res = parse_soap_response(reply->body, job->action, reply->status);
	counters_.count_error(res ? Error(Errc::ok) : res.error());
	if (!res) {
		// A UPnP fault is the router's answer and reads best as it is;
		// anything else gets the action and URL as context.
		if (res.error().code().category() == upnp_category())
			return job->then(res.error());
		return job->then(Error(res.error().code(), job->where + ": " + res.error().message()));
	}
	job->then(std::move(res));
}

// ---------------------------------------------------------------------------
// probe

milliseconds UpnpClient::call_timeout() const {
	return at_least(settings_.mapping_timeout, kMinCallTime);
}

// The discover timeout bounds finding the gateway. Once it answered SSDP,
// each request of the probe gets what is left of that, but at least a full
// call's time; the probe's deadline moves out to cover it.
milliseconds UpnpClient::probe_call_time(const std::shared_ptr<ProbeOp> &op) {
	const auto left = std::chrono::duration_cast<milliseconds>(
	    op->started + settings_.discover_timeout - Clock::now());
	const milliseconds t = at_least(left, call_timeout());
	const auto end = Clock::now() + t;
	if (end > op->deadline.expiry())
		arm_probe_deadline(op, end);
	return t;
}

void UpnpClient::arm_probe_deadline(const std::shared_ptr<ProbeOp> &op, Clock::time_point when) {
	std::weak_ptr<char> alive = alive_;
	op->deadline.expires_at(when);
	op->deadline.async_wait([this, alive, op](std::error_code ec) {
		if (ec || alive.expired() || op->finished)
			return;
		const Error e(Errc::timeout, op->phase_name());
		logger_.debug("UPnP {}: probe failed: {}", gateway_name(), e.message());
		count_failure(e);
		complete<engine::ProbeResult>(op, e);
	});
}

void UpnpClient::probe(std::function<void(Result<engine::ProbeResult>)> done) {
	auto op = std::make_shared<ProbeOp>(io_, std::move(done));
	track(op);
	std::weak_ptr<char> alive = alive_;
	arm_probe_deadline(op, op->started + settings_.discover_timeout);

	if (advertised_) {
		SsdpHit hit = std::move(*advertised_);
		advertised_.reset();
		op->advertised = true;
		logger_.debug("UPnP {}: probing the advertised {}", gateway_name(),
		              hit.location.to_string());
		asio::post(io_, [this, alive, op, hit = std::move(hit)]() mutable {
			if (!alive.expired())
				probe_ssdp_done(op, std::move(hit));
		});
		return;
	}
	probe_search(op);
}

// An advertised LOCATION is only a hint (a forged ssdp:alive can name
// http://<gateway>:1/): when it fails, the probe searches as usual, so a
// bad advertisement never keeps UPnP from being probed again.
bool UpnpClient::probe_fall_back(const std::shared_ptr<ProbeOp> &op, const Error &why) {
	if (!op->advertised || op->finished)
		return false;
	op->advertised = false;
	logger_.info("UPnP {}: the advertised LOCATION failed ({}): searching", gateway_name(),
	             why.message());
	op->phase = ProbeOp::Phase::Ssdp;
	op->started = Clock::now();
	arm_probe_deadline(op, op->started + settings_.discover_timeout);
	probe_search(op);
	return true;
}

void UpnpClient::probe_search(const std::shared_ptr<ProbeOp> &op) {
	std::weak_ptr<char> alive = alive_;
	SsdpSearchConfig config;
	config.targets = settings_.ssdp_targets;
	config.bind_address = settings_.local_address;
	// Strict: only the gateway itself may answer. A LAN neighbour that
	// claims to be an IGD is not the router whose NAT we cross.
	config.accept_from = [gw = settings_.gateway](const asio::ip::address &a) {
		return a.is_v4() && a.to_v4() == gw;
	};
	config.timeout = settings_.discover_timeout;
	op->search = std::make_unique<SsdpSearch>(io_, std::move(config), logger_);
	++counters_.requests;
	op->search->start([this, alive, op](Result<SsdpHit> hit) {
		if (alive.expired())
			return;
		probe_ssdp_done(op, std::move(hit));
	});
}

bool UpnpClient::is_igd_usn(const std::string &usn) const {
	const std::string uuid = usn.substr(0, usn.find("::"));
	if (uuid.empty())
		return false;
	return std::any_of(device_uuids_.begin(), device_uuids_.end(),
	                   [&](const std::string &u) { return iequals(u, uuid); });
}

void UpnpClient::observe_advertisement(const SsdpMessage &message) {
	if (message.kind != SsdpMessage::Kind::Notify)
		return;
	// Another UPnP device on the router (a media server, a printer) has its
	// own boots and goodbyes; so has a device we never probed.
	if (!is_igd_usn(message.usn))
		return;
	if (iequals(message.nts, "ssdp:byebye")) {
		said_byebye_ = true;
		return;
	}
	if (!iequals(message.nts, "ssdp:alive"))
		return; // ssdp:update announces a future BOOTID, not a reboot
	const bool new_boot = message.boot_id && boot_id_ && *message.boot_id != *boot_id_;
	const bool back = said_byebye_;
	if (message.boot_id)
		boot_id_ = message.boot_id;
	said_byebye_ = false;
	if (!new_boot && !back)
		return;
	std::optional<SsdpHit> advertised;
	if (auto url = http::parse_url(message.location))
		advertised = SsdpHit{asio::ip::address(settings_.gateway), std::move(*url), message.st,
		                     message.server, message.boot_id, message.usn};
	logger_.info("UPnP {}: the device says it {} ({})", gateway_name(),
	             new_boot ? "rebooted" : "is back after saying goodbye",
	             new_boot ? "new BOOTID " + std::to_string(*message.boot_id) : message.st);
	confirm_reboot(std::move(advertised));
}

// Nothing held: nothing to lose or to flood, take the advertisement as it
// is. Else ask the router over TCP about one mapping we hold.
void UpnpClient::confirm_reboot(std::optional<SsdpHit> advertised) {
	const Service *s = service();
	if (held_.empty() || !s)
		return reboot_confirmed(std::move(advertised));
	if (!confirm_.try_start())
		return;
	++confirmations_;
	const auto [proto, port] = *held_.begin();
	// The gate reopens when the operation completes, cancelled included.
	std::weak_ptr<char> alive = alive_;
	auto op = std::make_shared<Pending<void>>(io_, [this, alive](Result<void>) {
		if (!alive.expired())
			confirm_.done();
	});
	track(op);
	soap(
	    op, *s, "GetSpecificPortMappingEntry",
	    build_get_specific_port_mapping_entry(s->service_type, "", port, proto), call_timeout(),
	    [this, op, proto = proto, port = port,
	     advertised = std::move(advertised)](Result<SoapResponse> r) mutable {
		    complete<void>(op, Result<void>());
		    if (r) {
			    logger_.info("UPnP {}: {} {} is still mapped: no reboot, advertisement ignored",
			                 gateway_name(), proto, port);
			    return;
		    }
		    // Gone (714), or the device no longer where it was: either way
		    // its mappings must be made again, after a probe if need be.
		    logger_.info("UPnP {}: reboot confirmed: {} {}: {}", gateway_name(), proto, port,
		                 r.error().message());
		    reboot_confirmed(std::move(advertised));
	    },
	    true);
}

void UpnpClient::reboot_confirmed(std::optional<SsdpHit> advertised) {
	held_.clear();
	if (advertised)
		advertised_ = std::move(advertised);
	if (events_.gateway_restarted)
		events_.gateway_restarted();
}

void UpnpClient::probe_ssdp_done(const std::shared_ptr<ProbeOp> &op, Result<SsdpHit> hit) {
	if (op->finished)
		return;
	if (!hit) {
		const Error e = hit.error() == Errc::timeout ? Error(Errc::timeout, "no IGD answered SSDP")
		                                             : hit.error();
		logger_.debug("UPnP {}: probe failed: {}", gateway_name(), e.message());
		count_failure(e);
		return complete<engine::ProbeResult>(op, e);
	}
	// SsdpSearch checked both already; the description is fetched only
	// from the gateway itself, so check again right where it matters.
	const bool from_gateway = hit->responder.is_v4() && hit->responder.to_v4() == settings_.gateway;
	if (!from_gateway || hit->location.host != hit->responder.to_string()) {
		const Error e(Errc::untrusted, "LOCATION " + hit->location.to_string() + " from " +
		                                   hit->responder.to_string() + " is not the gateway");
		if (probe_fall_back(op, e))
			return;
		logger_.warn("UPnP {}: probe failed: {}", gateway_name(), e.message());
		return complete<engine::ProbeResult>(op, e);
	}
	if (!hit->usn.empty())
		op->usn = hit->usn;
	logger_.debug("UPnP {}: SSDP answer {} ({}), description at {}", gateway_name(), hit->st,
	              hit->server, hit->location.to_string());
	if (hit->boot_id)
		boot_id_ = hit->boot_id;
	// The gateway is there: the engine waits for the rest of the probe
	// rather than report FAILURE while a slow router works on it.
	if (events_.gateway_answered)
		events_.gateway_answered();

	op->phase = ProbeOp::Phase::Description;
	http::Request get;
	get.url = hit->location;
	http::Limits limits = settings_.http_limits;
	limits.total_timeout = probe_call_time(op);
	limits.connect_timeout = std::min(limits.connect_timeout, limits.total_timeout);
	std::weak_ptr<char> alive = alive_;
	++counters_.requests;
	op->get = http::async_request(
	    io_, std::move(get), limits,
	    [this, alive, op, location = hit->location](Result<http::Response> reply) {
		    if (alive.expired())
			    return;
		    probe_description_done(op, location, std::move(reply));
	    });
}

void UpnpClient::probe_description_done(const std::shared_ptr<ProbeOp> &op,
                                        const http::Url &location, Result<http::Response> reply) {
	if (op->finished)
		return;
	const std::string where = "description at " + location.to_string();
	Result<Description> desc = Error(Errc::failed);
	if (!reply) {
		count_failure(reply.error());
		desc = transport_error(reply.error(), where);
	} else if (reply->status != 200)
		desc = Error(http::status_error_code(reply->status), where);
	else
		desc = parse_description(reply->body, location);
	if (reply)
		counters_.count_error(desc ? Error(Errc::ok) : desc.error());
	if (!desc) {
		if (probe_fall_back(op, desc.error()))
			return;
		logger_.debug("UPnP {}: probe failed: {}", gateway_name(), desc.error().message());
		return complete<engine::ProbeResult>(op, desc.error());
	}
	for (const auto &why : desc->dropped)
		logger_.debug("UPnP {}: description: {}", gateway_name(), why);
	op->desc = std::move(*desc);
	if (op->desc.services.size() == 1) {
		op->chosen = 0;
		return probe_external_ip(op);
	}
	op->phase = ProbeOp::Phase::Status;
	probe_next_status(op);
}

// With several WAN*Connection services (a router with an IP and a PPP
// uplink, or two WAN devices), only a connected one can map anything. They
// are asked in preference order; the first Connected wins.
void UpnpClient::probe_next_status(const std::shared_ptr<ProbeOp> &op) {
	if (op->next_status >= op->desc.services.size()) {
		logger_.debug("UPnP {}: no service says Connected; using the first", gateway_name());
		op->chosen = 0;
		return probe_external_ip(op);
	}
	const size_t index = op->next_status++;
	const Service &s = op->desc.services[index];
	soap(
	    op, s, "GetStatusInfo", build_get_status_info(s.service_type), probe_call_time(op),
	    [this, op, index](Result<SoapResponse> r) {
		    const Service &svc = op->desc.services[index];
		    Result<StatusInfo> info = r ? status_info_from(*r) : Result<StatusInfo>(r.error());
		    if (info && info->connection_status == "Connected") {
			    op->chosen = index;
			    return probe_external_ip(op);
		    }
		    logger_.debug("UPnP {}: {} at {}: {}", gateway_name(), svc.service_type,
		                  svc.control_url.to_string(),
		                  info ? info->connection_status : info.error().message());
		    probe_next_status(op);
	    },
	    true);
}

void UpnpClient::probe_external_ip(const std::shared_ptr<ProbeOp> &op) {
	op->phase = ProbeOp::Phase::ExternalIp;
	const Service &s = op->desc.services[op->chosen];
	const auto sent = Clock::now();
	soap(
	    op, s, "GetExternalIPAddress", build_get_external_ip(s.service_type), probe_call_time(op),
	    [this, op, sent](Result<SoapResponse> r) {
		    auto ip = r ? external_ip_from(*r) : Result<asio::ip::address_v4>(r.error());
		    // An empty address or 0.0.0.0 (Errc::failed) is what a router says
		    // while its WAN link is down: it still speaks UPnP and keeps
		    // mappings, so the probe succeeds with the address unknown (as a
		    // PCP probe does) and a later map() asks again.
		    const bool wan_down = !ip && ip.error() == Errc::failed;
		    if (!ip && !wan_down) {
			    logger_.debug("UPnP {}: probe failed: {}", gateway_name(), ip.error().message());
			    return complete<engine::ProbeResult>(op, ip.error());
		    }
		    const Service &svc = op->desc.services[op->chosen];
		    engine::ProbeResult out;
		    out.external_address =
		        ip ? asio::ip::address(*ip) : asio::ip::address(asio::ip::address_v4::any());
		    out.rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent);
		    out.detail = op->desc.friendly_name + " " + svc.service_type;
		    engine::UpnpDevice device;
		    device.friendly_name = op->desc.friendly_name;
		    device.manufacturer = op->desc.manufacturer;
		    device.model_name = op->desc.model_name;
		    device.model_number = op->desc.model_number;
		    device.device_type = op->desc.device_type;
		    device.igd_version = op->desc.igd_version;
		    device.service_type = svc.service_type;
		    device.control_url = svc.control_url.to_string();
		    device.services = op->desc.service_types;
		    out.upnp = std::move(device);
		    logger_.debug("UPnP {}: {} at {}, external address {}, rtt {} us", gateway_name(),
		                  out.detail, svc.control_url.to_string(),
		                  ip ? ip->to_string() : ip.error().message(), out.rtt.count());
		    device_uuids_ = op->desc.udns;
		    if (!op->usn.empty())
			    device_uuids_.push_back(op->usn.substr(0, op->usn.find("::")));
		    description_ = std::move(op->desc);
		    service_index_ = op->chosen;
		    if (ip)
			    learn_external(*ip);
		    else
			    external_.reset();
		    complete<engine::ProbeResult>(op, std::move(out));
	    },
	    true);
}

// ---------------------------------------------------------------------------
// map

void UpnpClient::map(const engine::MapRequest &request,
                     std::function<void(Result<engine::MapGrant>)> done) {
	auto op = std::make_shared<MapOp>(io_, std::move(done));
	track(op);
	const Service *s = service();
	if (!s)
		return complete<engine::MapGrant>(op,
		                                  Error(Errc::unsupported, "no IGD service: probe first"));
	if (request.internal_port == 0)
		return complete<engine::MapGrant>(op, Error(Errc::invalid_argument, "internal port 0"));
	// NewInternalClient must be our own address: 0.0.0.0 would be refused
	// or, worse, read as "any host" by a lax router.
	if (settings_.local_address.is_unspecified())
		return complete<engine::MapGrant>(
		    op, Error(Errc::invalid_argument, "no local address for UPnP"));
	op->request = request;
	op->service = *s;
	op->lease = permanent_only_ ? 0 : std::min(request.lifetime, kMaxLease);
	// External port 0 ("any"): the internal port is as good a first guess
	// as any, and the one applications expect.
	op->external_port = request.external_port ? request.external_port : request.internal_port;
	map_add(op);
}

namespace {

PortMappingArgs mapping_args(const engine::MapRequest &request, uint16_t external_port,
                             uint32_t lease, const asio::ip::address_v4 &local) {
	PortMappingArgs a;
	a.remote_host = "";
	a.external_port = external_port;
	a.protocol = protocol_name(request.protocol);
	a.internal_port = request.internal_port;
	a.internal_client = local.to_string();
	a.enabled = true;
	a.description = request.description;
	a.lease_duration = lease;
	return a;
}

} // namespace

void UpnpClient::map_add(const std::shared_ptr<MapOp> &op) {
	++op->attempts;
	op->tried_ports.push_back(op->external_port);
	const auto args =
	    mapping_args(op->request, op->external_port, op->lease, settings_.local_address);
	soap(op, op->service, "AddPortMapping", build_add_port_mapping(op->service.service_type, args),
	     call_timeout(), [this, op](Result<SoapResponse> r) {
		     if (!r)
			     return map_refused(op, r.error(), false);
		     map_granted(op, op->external_port);
	     });
}

// WANIPConnection:2 §2.5.16: the router grants the requested port if free,
// else one of its choosing, returned as NewReservedPort.
void UpnpClient::map_add_any(const std::shared_ptr<MapOp> &op) {
	++op->attempts;
	const auto args =
	    mapping_args(op->request, op->external_port, op->lease, settings_.local_address);
	soap(op, op->service, "AddAnyPortMapping",
	     build_add_any_port_mapping(op->service.service_type, args), call_timeout(),
	     [this, op](Result<SoapResponse> r) {
		     if (!r)
			     return map_refused(op, r.error(), true);
		     auto port = reserved_port_from(*r);
		     if (!port) {
			     logger_.debug("UPnP {}: AddAnyPortMapping {} {}: {}", gateway_name(),
			                   protocol_name(op->request.protocol), op->request.internal_port,
			                   port.error().message());
			     return complete<engine::MapGrant>(op, port.error());
		     }
		     map_granted(op, *port);
	     });
}

void UpnpClient::map_refused(const std::shared_ptr<MapOp> &op, const Error &error, bool any) {
	const char *action = any ? "AddAnyPortMapping" : "AddPortMapping";
	const char *proto = protocol_name(op->request.protocol);
	logger_.debug("UPnP {}: {} {} {}->{}: {}", gateway_name(), action, proto, op->external_port,
	              op->request.internal_port, error.message());
	const auto retry = [&] { return any ? map_add_any(op) : map_add(op); };
	if (op->attempts < kMaxMapAttempts) {
		if (is(error, UpnpError::OnlyPermanentLeasesSupported) && op->lease != 0) {
			// Remembered for every later map: asking for a lease again
			// would only cost another refusal each time.
			if (!permanent_only_)
				logger_.info("UPnP {}: the router only supports permanent leases", gateway_name());
			permanent_only_ = true;
			op->lease = 0;
			return retry();
		}
		// IGDv2 lets the router pick a free port; IGDv1 leaves it to us.
		const bool v2 = op->service.version >= 2;
		const bool conflict = is(error, UpnpError::ConflictInMappingEntry);
		// Declared IGDv2, but without AddAnyPortMapping: pick ports
		// ourselves as on IGDv1.
		const bool no_any = any && (is(error, UpnpError::InvalidAction) ||
		                            is(error, UpnpError::OptionalActionNotImplemented));
		if (no_any)
			op->any_failed = true;
		if (conflict || no_any) {
			if (!any && v2 && !op->any_failed)
				return map_add_any(op);
			if (op->conflict_tries < kMaxConflictTries) {
				++op->conflict_tries;
				op->external_port = random_port(*op);
				return map_add(op);
			}
		}
		if (is(error, UpnpError::SamePortValuesRequired) && !op->same_port_tried) {
			op->same_port_tried = true;
			op->external_port = op->request.internal_port;
			return map_add(op);
		}
		if ((is(error, UpnpError::WildCardNotPermittedInExtPort) ||
		     is(error, UpnpError::ExternalPortOnlySupportsWildcard)) &&
		    !op->wildcard_tried) {
			op->wildcard_tried = true;
			op->external_port = op->request.internal_port;
			return map_add(op);
		}
	}
	logger_.debug("UPnP {}: map {} {} failed: {}", gateway_name(), proto, op->request.internal_port,
	              error.message());
	complete<engine::MapGrant>(op, error);
}

uint16_t UpnpClient::random_port(const MapOp &op) {
	std::uniform_int_distribution<int> dist(1024, 65535);
	uint16_t port = 0;
	// Bounded: a repeat is unlikely and harmless (one more 718).
	for (int i = 0; i < 8; ++i) {
		port = uint16_t(dist(random_));
		if (std::find(op.tried_ports.begin(), op.tried_ports.end(), port) == op.tried_ports.end())
			break;
	}
	return port;
}

void UpnpClient::map_granted(const std::shared_ptr<MapOp> &op, uint16_t external_port) {
	const auto finish = [this, op, external_port] {
		engine::MapGrant grant;
		grant.external_address = external_ ? asio::ip::address(*external_)
		                                   : asio::ip::address(asio::ip::address_v4::any());
		grant.external_port = external_port;
		grant.lifetime = op->lease;
		grant.internal_port = op->request.internal_port;
		logger_.debug("UPnP {}: {} {} -> {}:{}, lease {} s", gateway_name(),
		              protocol_name(op->request.protocol), op->request.internal_port,
		              grant.external_address.to_string(), external_port, op->lease);
		held_.emplace(protocol_name(op->request.protocol), external_port);
		complete<engine::MapGrant>(op, std::move(grant));
	};
	if (external_)
		return finish();
	// The grant carries the external address: learn it now. The mapping
	// exists either way, so a failure here does not fail the map.
	soap(op, op->service, "GetExternalIPAddress", build_get_external_ip(op->service.service_type),
	     call_timeout(), [this, finish](Result<SoapResponse> r) {
		     auto ip = r ? external_ip_from(*r) : Result<asio::ip::address_v4>(r.error());
		     if (ip)
			     learn_external(*ip);
		     else
			     logger_.info("UPnP {}: external address unknown: {}", gateway_name(),
			                  ip.error().message());
		     finish();
	     });
}

// ---------------------------------------------------------------------------
// unmap

bool UpnpClient::withdraw_map(const engine::MapRequest &request) {
	for (const auto &[id, op] : ops_) {
		auto map = std::dynamic_pointer_cast<MapOp>(op);
		if (!map || map->finished || map->request.nonce != request.nonce ||
		    map->request.internal_port != request.internal_port ||
		    map->request.protocol != request.protocol)
			continue;
		if (map->sent)
			return false;
		complete<engine::MapGrant>(map, Error(Errc::cancelled, "the mapping was deleted"));
		return true;
	}
	return false;
}

void UpnpClient::unmap(const engine::MapRequest &request, std::function<void(Result<void>)> done) {
	auto op = std::make_shared<Pending<void>>(io_, std::move(done));
	track(op);
	const Service *s = service();
	if (!s)
		return complete<void>(op, Error(Errc::unsupported, "no IGD service: probe first"));
	const char *proto = protocol_name(request.protocol);
	soap(op, *s, "DeletePortMapping",
	     build_delete_port_mapping(s->service_type, "", request.external_port, proto),
	     call_timeout(), [this, op, request, proto](Result<SoapResponse> r) {
		     if (!r && !is(r.error(), UpnpError::NoSuchEntryInArray)) {
			     logger_.debug("UPnP {}: delete {} {} failed: {}", gateway_name(), proto,
			                   request.external_port, r.error().message());
			     return complete<void>(op, r.error());
		     }
		     logger_.debug("UPnP {}: deleted {} {}{}", gateway_name(), proto, request.external_port,
		                   r ? "" : " (already gone)");
		     held_.erase({proto, request.external_port});
		     complete<void>(op, Result<void>());
	     });
}

} // namespace plum::upnp
