// The UPnP-IGD client's connection handling: its operations, and the SOAP
// requests they make, one per TCP connection, in one FIFO queue with a
// bounded number in flight. Discovery: upnp_probe.cpp; reboots:
// upnp_advertisements.cpp; mappings and the router's refusals:
// upnp_mapping.cpp.
#include "upnp/upnp_ops.hpp"

namespace plum::upnp {

using namespace detail;

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

milliseconds UpnpClient::call_timeout() const {
	return at_least(settings_.mapping_timeout, kMinCallTime);
}

} // namespace plum::upnp
