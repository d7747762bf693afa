// plum::Client: one engine on its own thread.
//
// Every call from the application is posted onto the engine's io_context;
// the engine reports each state change through a sink that runs on that
// thread. The only state shared with application threads is the public view
// of each mapping (its status and callback) behind one mutex, and no user
// callback ever runs while that mutex is held, so a callback may call the
// API freely.
//
// IPv6 (Config::families): one engine per address family on the same
// io_context. Each mapping id is made in every enabled family; the public
// view combines them (see combine()): SUCCESS when one family is mapped,
// FAILURE when none is, DESTROYED when every family is done. With one
// family the view is that engine's own, change for change.
#include "api/protocol_factory.hpp"
#include "engine/engine.hpp"
#include "log/logger.hpp"
#include "net/address.hpp"
#include "net/route.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace plum {

namespace {

std::chrono::milliseconds or_default(std::chrono::milliseconds v, std::chrono::milliseconds def) {
	return v.count() > 0 ? v : def;
}

} // namespace

// The engines, by family.
constexpr size_t kV4 = 0, kV6 = 1, kFamilies = 2;

namespace client_detail {
// One family's view of a mapping, as its engine last reported it. (At
// namespace scope: std::optional of a nested type with default member
// initializers is not constructible inside its enclosing class for clang.)
struct FamilyView {
	State state = State::Pending;
	Mapping mapping;
	std::optional<Error> error;
};
} // namespace client_detail

// Client is exported, and with it would go what its Impl defines out of
// line: the Impl stays inside the library (a DLL exports only what is
// marked, so this is for ELF and Mach-O).
#if defined(_WIN32)
#define PLUM_INTERNAL
#else
#define PLUM_INTERNAL __attribute__((visibility("hidden")))
#endif

struct PLUM_INTERNAL Client::Impl {
	using FamilyView = client_detail::FamilyView;
	struct Entry {
		MappingStatus status;
		std::array<std::optional<FamilyView>, kFamilies> family; // enabled ones only
		StateCallback callback;
		// create_mapping's future, until the first result.
		std::shared_ptr<std::promise<Result<MappingResult>>> first;
		std::shared_ptr<asio::steady_timer> first_timer;
		bool callback_sees_first = true;
	};

	Config config;
	Logger logger;
	std::unique_ptr<asio::io_context> io;
	std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
	std::thread thread;
	std::array<std::unique_ptr<engine::Engine>, kFamilies> engines;

	mutable std::mutex mutex; // guards what follows
	bool running = false;
	int next_id = 0;
	std::map<int, Entry> entries;

	void on_state_change(size_t family, const engine::StateChange &change);
	void start_locked(int id, IpProtocol protocol, uint16_t internal_port, uint16_t external_port);
	Entry &new_entry_locked(int id, IpProtocol protocol, uint16_t internal_port,
	                        uint16_t external_port);
	bool on_engine_thread() const { return thread.get_id() == std::this_thread::get_id(); }
};

namespace {

// The public view of a mapping made in both families. Each family's engine
// reports Pending, Success, Failure or Destroyed.
//   state     Destroyed once every family is; Success when one is mapped;
//             Pending while one is still trying and none is mapped;
//             Failure otherwise.
//   mapping   external_host/port and mapping_protocol of the IPv4 family when
//             it is mapped, else of the IPv6 one; external_host6 is the IPv6
//             family's address when it is mapped.
engine::StateChange
combine(int id, const std::array<std::optional<client_detail::FamilyView>, kFamilies> &family) {
	engine::StateChange out;
	out.id = id;
	bool all_destroyed = true, any_success = false, any_pending = false;
	const client_detail::FamilyView *shown = nullptr;
	for (const auto &f : family) {
		if (!f)
			continue;
		all_destroyed = all_destroyed && f->state == State::Destroyed;
		any_success = any_success || f->state == State::Success;
		any_pending = any_pending || f->state == State::Pending;
		if (f->error && !out.error)
			out.error = f->error;
	}
	// The first family (IPv4) with a result shows; Success before anything.
	for (const auto &f : family)
		if (f && !shown && (f->state == State::Success || !any_success))
			shown = &*f;
	if (all_destroyed)
		out.state = State::Destroyed;
	else if (any_success)
		out.state = State::Success;
	else if (any_pending)
		out.state = State::Pending;
	else
		out.state = State::Failure;
	if (shown)
		out.mapping = shown->mapping;
	const auto &v6 = family[kV6];
	if (v6 && (v6->state == State::Success || v6->state == State::Destroyed))
		out.mapping.external_host6 = v6->mapping.external_host;
	else
		out.mapping.external_host6.clear();
	return out;
}

bool same_view(const Mapping &a, const Mapping &b) {
	return a.mapping_protocol == b.mapping_protocol && a.external_port == b.external_port &&
	       a.external_host == b.external_host && a.external_host6 == b.external_host6;
}

} // namespace

void Client::Impl::on_state_change(size_t family, const engine::StateChange &reported) {
	StateCallback callback;
	std::shared_ptr<std::promise<Result<MappingResult>>> first;
	std::shared_ptr<asio::steady_timer> first_timer;
	bool call = false;
	engine::StateChange change = reported;
	{
		std::lock_guard lock(mutex);
		auto it = entries.find(change.id);
		if (it == entries.end())
			return;
		Entry &e = it->second;
		auto &view = e.family[family];
		if (!view)
			return;
		view->state = reported.state;
		view->mapping = reported.mapping;
		view->error = reported.error;
		size_t enabled = 0;
		for (const auto &f : e.family)
			enabled += f ? 1 : 0;
		if (enabled > 1) {
			change = combine(change.id, e.family);
			if (family == kV6 && change.state == State::Failure)
				change.error = reported.error ? reported.error : change.error;
			// A change of one family that leaves the public view as it was
			// is not a change (e.g. IPv6 fails while IPv4 stays mapped).
			if (change.state == e.status.state && same_view(change.mapping, e.status.mapping) &&
			    change.state != State::Destroyed)
				return;
		} else if (family == kV6 && change.state != State::Pending) {
			change.mapping.external_host6 =
			    change.state == State::Failure ? std::string() : change.mapping.external_host;
		}
		// A mapping being destroyed stays DESTROYING until DESTROYED, even if
		// a last map result arrives meanwhile.
		if (e.status.state == State::Destroying && change.state != State::Destroyed)
			return;
		if (change.state == State::Pending)
			return; // not a change anyone is told about
		e.status.state = change.state;
		e.status.mapping = change.mapping;
		callback = e.callback;
		call = static_cast<bool>(callback);
		const bool is_result = change.state == State::Success || change.state == State::Failure;
		if (e.first && (is_result || change.state == State::Destroyed)) {
			first = std::move(e.first);
			first_timer = std::move(e.first_timer);
			if (!e.callback_sees_first)
				call = change.state == State::Destroyed && call;
		}
		if (change.state == State::Destroyed)
			entries.erase(it);
	}
	if (first_timer)
		first_timer->cancel();
	if (first) {
		if (change.state == State::Success)
			first->set_value(MappingResult{change.id, change.mapping});
		else if (change.state == State::Destroyed)
			first->set_value(Error(Errc::cancelled, "mapping destroyed before its first result"));
		else
			first->set_value(change.error.value_or(Error(Errc::failed, "mapping failed")));
	}
	if (call)
		callback(change.id, change.state, change.mapping);
}

Client::Client() : impl_(std::make_unique<Impl>()) {}

Client::~Client() {
	if (running())
		(void)cleanup();
}

bool Client::running() const noexcept {
	std::lock_guard lock(impl_->mutex);
	return impl_->running;
}

Result<void> Client::init(Config config) {
	std::lock_guard lock(impl_->mutex);
	if (impl_->running)
		return Error(Errc::already_initialized, "plum is already running");
	Impl &m = *impl_;
	if (config.protocols == 0)
		config.protocols = kUseAll;
	config.families &= kIPv4AndIPv6;
	if (config.families == 0)
		config.families = kIPv4;
	m.config = config;
	m.logger = Logger(config.log_level, config.log_callback);
	m.io = std::make_unique<asio::io_context>(1);
	m.work.emplace(m.io->get_executor());

	engine::Settings s;
	s.discover_timeout = or_default(config.discover_timeout, std::chrono::milliseconds(10000));
	s.mapping_timeout = or_default(config.mapping_timeout, std::chrono::milliseconds(10000));
	s.recheck_period = or_default(config.recheck_period, std::chrono::milliseconds(300000));
	if (config.lifetime.count() > 0)
		s.lifetime = static_cast<uint32_t>(std::min<int64_t>(config.lifetime.count(), 86400 * 7));
	s.first_verdict = std::min(s.first_verdict, s.discover_timeout);
	// A UPnP probe after the SSDP answer: the description, at most a few
	// GetStatusInfo and GetExternalIPAddress, each bounded by one SOAP call
	// (the mapping timeout, at least 5 s).
	s.live_probe_limit = 4 * std::max(s.mapping_timeout, std::chrono::milliseconds(5000));
	s.cleanup_timeout = std::min(s.cleanup_timeout, s.mapping_timeout);
	if (config.families & kIPv4)
		m.engines[kV4] = std::make_unique<engine::Engine>(
		    *m.io, s, [cfg = config] { return api::discover_environment(cfg); },
		    api::make_protocol_factory(*m.io, config, s.mapping_timeout, s.discover_timeout,
		                               m.logger),
		    [impl = impl_.get()](const engine::StateChange &c) { impl->on_state_change(kV4, c); },
		    m.logger);
	if (config.families & kIPv6) {
		engine::Settings s6 = s;
		s6.direct_when_public = false; // a global IPv6 address is behind a firewall
		m.engines[kV6] = std::make_unique<engine::Engine>(
		    *m.io, s6, [cfg = config] { return api::discover_environment6(cfg); },
		    api::make_protocol_factory6(*m.io, config, s.mapping_timeout, m.logger),
		    [impl = impl_.get()](const engine::StateChange &c) { impl->on_state_change(kV6, c); },
		    m.logger);
	}
	m.thread = std::thread([io = m.io.get()] { io->run(); });
	m.running = true;
	m.next_id = 0;
	return {};
}

Result<void> Client::cleanup() {
	Impl &m = *impl_;
	{
		std::lock_guard lock(m.mutex);
		if (!m.running)
			return Error(Errc::not_initialized, "plum is not running");
		if (m.on_engine_thread())
			return Error(Errc::invalid_argument, "cleanup cannot be called from a plum callback");
		m.running = false; // new calls are refused from here on
	}
	// Let the engine delete every mapping on the router (it bounds its own
	// wait), then stop the loop.
	// Both families shut down at once; the last to finish says so.
	auto done = std::make_shared<std::promise<void>>();
	auto finished = done->get_future();
	asio::post(*m.io, [&m, done] {
		auto left = std::make_shared<size_t>(0);
		for (auto &e : m.engines)
			*left += e ? 1 : 0;
		if (*left == 0)
			return done->set_value();
		for (auto &e : m.engines)
			if (e)
				e->shutdown([done, left] {
					if (--*left == 0)
						done->set_value();
				});
	});
	finished.wait();
	asio::post(*m.io, [&m] {
		for (auto &e : m.engines)
			e.reset();
	});
	m.work.reset();
	m.thread.join();

	std::map<int, Impl::Entry> left;
	{
		std::lock_guard lock(m.mutex);
		left.swap(m.entries);
	}
	for (auto &[id, e] : left) {
		e.first_timer.reset(); // timers go before their io_context
		if (e.first)
			e.first->set_value(Error(Errc::cancelled, "plum was cleaned up"));
	}
	m.io.reset();
	return {};
}

Result<int> Client::start_mapping(IpProtocol protocol, uint16_t internal_port,
                                  uint16_t external_port, StateCallback on_state_change) {
	Impl &m = *impl_;
	if (internal_port == 0)
		return Error(Errc::invalid_argument, "internal port 0");
	std::lock_guard lock(m.mutex);
	if (!m.running)
		return Error(Errc::not_initialized, "plum is not running");
	const int id = m.next_id++;
	Impl::Entry &e = m.new_entry_locked(id, protocol, internal_port, external_port);
	e.callback = std::move(on_state_change);
	m.start_locked(id, protocol, internal_port, external_port);
	return id;
}

Client::Impl::Entry &Client::Impl::new_entry_locked(int id, IpProtocol protocol,
                                                    uint16_t internal_port,
                                                    uint16_t external_port) {
	Entry &e = entries[id];
	e.status.state = State::Pending;
	e.status.mapping.protocol = protocol;
	e.status.mapping.internal_port = internal_port;
	e.status.mapping.external_port = external_port;
	for (size_t f = 0; f < kFamilies; ++f)
		if (engines[f])
			e.family[f].emplace();
	return e;
}

void Client::Impl::start_locked(int id, IpProtocol protocol, uint16_t internal_port,
                                uint16_t external_port) {
	asio::post(*io, [this, id, protocol, internal_port, external_port] {
		for (auto &engine : engines)
			if (engine)
				engine->add(id, protocol, internal_port, external_port);
	});
}

std::future<Result<MappingResult>>
Client::create_mapping(IpProtocol protocol, uint16_t internal_port, uint16_t external_port,
                       std::chrono::milliseconds timeout, StateCallback on_state_change) {
	Impl &m = *impl_;
	auto promise = std::make_shared<std::promise<Result<MappingResult>>>();
	auto future = promise->get_future();
	if (internal_port == 0) {
		promise->set_value(Error(Errc::invalid_argument, "internal port 0"));
		return future;
	}
	std::lock_guard lock(m.mutex);
	if (!m.running) {
		promise->set_value(Error(Errc::not_initialized, "plum is not running"));
		return future;
	}
	const int id = m.next_id++;
	Impl::Entry &e = m.new_entry_locked(id, protocol, internal_port, external_port);
	e.callback = std::move(on_state_change);
	e.callback_sees_first = false;
	e.first = promise;
	e.first_timer = std::make_shared<asio::steady_timer>(*m.io);
	e.first_timer->expires_after(timeout);
	e.first_timer->async_wait([&m, id, timeout](std::error_code ec) {
		if (ec)
			return;
		std::shared_ptr<std::promise<Result<MappingResult>>> p;
		{
			std::lock_guard l(m.mutex);
			auto it = m.entries.find(id);
			if (it == m.entries.end() || !it->second.first)
				return;
			p = std::move(it->second.first);
			it->second.first_timer.reset();
			// The mapping keeps trying; its later changes reach the callback.
			it->second.callback_sees_first = true;
		}
		p->set_value(Error(Errc::timeout, "mapping " + std::to_string(id) +
		                                      " got no result within " +
		                                      std::to_string(timeout.count()) + " ms"));
	});
	m.start_locked(id, protocol, internal_port, external_port);
	return future;
}

void Client::destroy_mapping(int id) {
	Impl &m = *impl_;
	std::lock_guard lock(m.mutex);
	if (!m.running)
		return;
	auto it = m.entries.find(id);
	if (it == m.entries.end() || it->second.status.state == State::Destroying)
		return;
	it->second.status.state = State::Destroying;
	asio::post(*m.io, [&m, id] {
		for (auto &engine : m.engines)
			if (engine)
				engine->remove(id);
	});
}

bool Client::has_mapping(int id) const {
	std::lock_guard lock(impl_->mutex);
	auto it = impl_->entries.find(id);
	return it != impl_->entries.end() && it->second.status.state != State::Destroying &&
	       it->second.status.state != State::Destroyed;
}

std::optional<MappingStatus> Client::query_mapping(int id) const {
	std::lock_guard lock(impl_->mutex);
	auto it = impl_->entries.find(id);
	if (it == impl_->entries.end())
		return std::nullopt;
	return it->second.status;
}

Result<std::string> Client::get_local_address() const {
	Config config;
	{
		std::lock_guard lock(impl_->mutex);
		config = impl_->config;
	}
	// IPv4's when IPv4 is enabled (libplum's answer), else IPv6's.
	const bool v6_only = (config.families & kIPv4AndIPv6) == kIPv6;
	auto env = v6_only ? api::discover_environment6(config) : api::discover_environment(config);
	if (!env)
		return env.error();
	return env->local.to_string();
}

namespace {

// An answer from the engine's thread to a caller on another thread. Without
// exceptions (a std::promise dropped unset would throw broken_promise from
// get()): the posted request holds a Guard, and a request dropped unrun
// (cleanup stopped the loop first) answers "nothing" as it goes.
template <class T> struct EngineReply {
	std::mutex mutex;
	std::condition_variable cv;
	std::optional<T> value;
	bool over = false;

	void finish(std::optional<T> v) {
		{
			std::lock_guard lock(mutex);
			if (over)
				return;
			value = std::move(v);
			over = true;
		}
		cv.notify_all();
	}
	struct Guard {
		std::shared_ptr<EngineReply> reply;
		~Guard() { reply->finish(std::nullopt); }
	};
};

// Runs fn(m) on the engine's thread (at once when called from it) and
// returns its answer; nothing when the client is not running, when the loop
// ended first, or after 2 s.
template <class T, class F> std::optional<T> ask_engine(Client::Impl &m, F fn) {
	auto reply = std::make_shared<EngineReply<T>>();
	{
		std::lock_guard lock(m.mutex);
		if (!m.running)
			return std::nullopt;
		// From a callback, on the engine's thread: answer right here (a
		// post would wait for ourselves).
		if (m.on_engine_thread())
			return fn(m);
		auto guard = std::make_shared<typename EngineReply<T>::Guard>();
		guard->reply = reply;
		asio::post(*m.io, [&m, fn, guard] { guard->reply->finish(fn(m)); });
	}
	// Waited for without the mutex: the engine thread may need it meanwhile.
	std::unique_lock lock(reply->mutex);
	if (!reply->cv.wait_for(lock, std::chrono::seconds(2), [&] { return reply->over; }))
		return std::nullopt;
	return std::move(reply->value);
}

} // namespace

std::optional<std::string> Client::double_nat_address() const {
	return ask_engine<std::optional<std::string>>(*impl_, [](Impl &m) {
		       std::optional<std::string> r;
		       if (m.engines[kV4]) {
			       auto ext = m.engines[kV4]->external_address();
			       if (ext && net::is_double_nat(*ext))
				       r = ext->to_string();
		       }
		       return r;
	       }).value_or(std::nullopt);
}

namespace {

void add_to(ProtocolStats &into, const ProtocolStats &from) {
	into.requests += from.requests;
	into.retransmissions += from.retransmissions;
	into.timeouts += from.timeouts;
	into.renewals += from.renewals;
	into.recreations += from.recreations;
	for (const auto &[name, n] : from.results)
		into.results[name] += n;
}

// Both families' engines as one: the IPv4 view, with the IPv6 engine's PCP
// counters added and its pinholes listed after the IPv4 mappings (an id
// made in both families appears once per family).
Stats merged_stats(const std::array<std::unique_ptr<engine::Engine>, kFamilies> &engines) {
	if (!engines[kV4])
		return engines[kV6] ? engines[kV6]->stats() : Stats{};
	Stats out = engines[kV4]->stats();
	if (engines[kV6]) {
		Stats v6 = engines[kV6]->stats();
		add_to(out.pcp, v6.pcp);
		for (auto &m : v6.mappings)
			out.mappings.push_back(std::move(m));
	}
	return out;
}

} // namespace

Stats Client::stats() const {
	return ask_engine<Stats>(*impl_, [](Impl &m) { return merged_stats(m.engines); })
	    .value_or(Stats{});
}

} // namespace plum
