// The C API (include/plum/plum.h), a thin layer over the default Client with
// libplum's return codes.
#include "plum/plum.h"
#include "plum/plum.hpp"

#include <asio/ip/address.hpp>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

using namespace plum;

namespace {

void fill(plum_mapping_t *out, const Mapping &m, void *user_ptr) {
	std::memset(out, 0, sizeof(*out));
	out->protocol = m.protocol == IpProtocol::Udp ? PLUM_IP_PROTOCOL_UDP : PLUM_IP_PROTOCOL_TCP;
	out->mapping_protocol = static_cast<plum_mapping_protocol_t>(m.mapping_protocol);
	out->internal_port = m.internal_port;
	out->external_port = m.external_port;
	std::snprintf(out->external_host, sizeof(out->external_host), "%s", m.external_host.c_str());
	out->user_ptr = user_ptr;
}

// What the C API keeps between calls, beside the default client: set by
// init, emptied by cleanup, so one init never sees another's.
struct CState {
	std::mutex mutex;
	std::string dummytls_domain;
	// Each live mapping's user_ptr, as given to plum_create_mapping:
	// plum_query_mapping reports it, and never reads the caller's copy.
	std::unordered_map<int, void *> user_ptrs;

	void reset(std::string domain = {}) {
		std::lock_guard lock(mutex);
		dummytls_domain = std::move(domain);
		user_ptrs.clear();
	}
	void *user_ptr(int id) {
		std::lock_guard lock(mutex);
		auto it = user_ptrs.find(id);
		return it == user_ptrs.end() ? nullptr : it->second;
	}
};

CState &c_state() {
	static CState state;
	return state;
}

// The version of plum_config_ext_t that plum first shipped: every caller
// passes at least this much. Later versions append fields, which are read
// only when the caller's size covers them.
constexpr size_t kConfigExtV1Size = sizeof(plum_config_ext_t);

bool read_ext(const plum_config_ext_t *ext, Config &config) {
	if (!ext)
		return true;
	if (ext->size < kConfigExtV1Size || ext->size > sizeof(plum_config_ext_t))
		return false;
	plum_config_ext_t x{};
	std::memcpy(&x, ext, ext->size);
	config.protocols = x.protocols ? (x.protocols & kUseAll) : kUseAll;
	config.families = x.families ? (x.families & kIPv4AndIPv6) : kIPv4;
	if (x.gateway_address)
		config.gateway_address = x.gateway_address;
	if (x.local_address)
		config.local_address = x.local_address;
	if (x.gateway_address6)
		config.gateway_address6 = x.gateway_address6;
	if (x.local_address6)
		config.local_address6 = x.local_address6;
	if (x.ssdp_address)
		config.ssdp_address = x.ssdp_address;
	config.pcp_port = x.pcp_port;
	config.announce_port = x.announce_port;
	config.ssdp_port = x.ssdp_port;
	config.lifetime = std::chrono::seconds(x.lifetime);
	return true;
}

// A C enum field as the int it holds. In C++ reading a value outside the
// enum's range through the enum type is undefined, and a C caller may put
// anything there.
template <class E> int enum_value(const E &field) {
	static_assert(sizeof(E) == sizeof(int));
	int v;
	std::memcpy(&v, &field, sizeof v);
	return v;
}

// Only libplum's six fields: a caller may leave anything else undefined.
void read_config(const plum_config_t *c, Config &config) {
	if (!c)
		return;
	const int level = enum_value(c->log_level);
	config.log_level = static_cast<LogLevel>(
	    level < PLUM_LOG_LEVEL_VERBOSE || level > PLUM_LOG_LEVEL_NONE ? PLUM_LOG_LEVEL_NONE : level);
	if (c->log_callback) {
		plum_log_callback_t cb = c->log_callback;
		config.log_callback = [cb](LogLevel level, std::string_view line) {
			const std::string s(line);
			cb(static_cast<plum_log_level_t>(level), s.c_str());
		};
	}
	config.discover_timeout = std::chrono::milliseconds(std::max(0, c->discover_timeout));
	config.mapping_timeout = std::chrono::milliseconds(std::max(0, c->mapping_timeout));
	config.recheck_period = std::chrono::milliseconds(std::max(0, c->recheck_period));
}

} // namespace

extern "C" {

PLUM_EXPORT int plum_init(const plum_config_t *c) {
	return plum_init_ext(c, nullptr);
}

PLUM_EXPORT int plum_init_ext(const plum_config_t *c, const plum_config_ext_t *ext) {
	Config config;
	read_config(c, config);
	if (!read_ext(ext, config))
		return PLUM_ERR_INVALID;
	if (default_client().running())
		return PLUM_ERR_FAILED;
	c_state().reset(c && c->dummytls_domain ? c->dummytls_domain : "");
	auto r = plum::init(std::move(config));
	if (!r)
		return PLUM_ERR_FAILED;
	return PLUM_ERR_SUCCESS;
}

PLUM_EXPORT int plum_cleanup(void) {
	if (!plum::cleanup())
		return PLUM_ERR_FAILED;
	c_state().reset();
	return PLUM_ERR_SUCCESS;
}

PLUM_EXPORT int plum_create_mapping(const plum_mapping_t *mapping,
                                    plum_mapping_callback_t callback) {
	if (!default_client().running())
		return PLUM_ERR_FAILED;
	if (!mapping)
		return PLUM_ERR_INVALID;
	// The request's inputs, and nothing else: mapping_protocol and
	// external_host are outputs, which callers may leave undefined.
	const int ip_protocol = enum_value(mapping->protocol);
	if (ip_protocol != PLUM_IP_PROTOCOL_TCP && ip_protocol != PLUM_IP_PROTOCOL_UDP)
		return PLUM_ERR_INVALID;
	const IpProtocol protocol =
	    ip_protocol == PLUM_IP_PROTOCOL_UDP ? IpProtocol::Udp : IpProtocol::Tcp;
	void *user_ptr = mapping->user_ptr;
	auto cb = [callback, user_ptr](int id, State state, const Mapping &m) {
		if (state == State::Destroyed) {
			std::lock_guard lock(c_state().mutex);
			c_state().user_ptrs.erase(id);
		}
		if (!callback)
			return;
		plum_mapping_t out;
		fill(&out, m, user_ptr);
		callback(id, static_cast<plum_state_t>(state), &out);
	};
	// Held across start_mapping, so that the id is known before its
	// DESTROYED can erase it.
	std::lock_guard lock(c_state().mutex);
	auto r = default_client().start_mapping(protocol, mapping->internal_port,
	                                        mapping->external_port, std::move(cb));
	if (!r)
		return r.error() == Errc::invalid_argument ? PLUM_ERR_INVALID : PLUM_ERR_FAILED;
	c_state().user_ptrs[*r] = user_ptr;
	return *r;
}

PLUM_EXPORT int plum_query_mapping(int id, plum_state_t *state, plum_mapping_t *mapping) {
	if (!default_client().running())
		return PLUM_ERR_FAILED;
	if (id < 0)
		return PLUM_ERR_INVALID;
	auto status = default_client().query_mapping(id);
	if (!status)
		return PLUM_ERR_NOT_AVAIL;
	if (state)
		*state = static_cast<plum_state_t>(status->state);
	if (mapping)
		fill(mapping, status->mapping, c_state().user_ptr(id));
	return PLUM_ERR_SUCCESS;
}

PLUM_EXPORT int plum_destroy_mapping(int id) {
	if (!default_client().running())
		return PLUM_ERR_FAILED;
	if (id < 0)
		return PLUM_ERR_INVALID;
	if (!default_client().query_mapping(id))
		return PLUM_ERR_NOT_AVAIL;
	default_client().destroy_mapping(id);
	return PLUM_ERR_SUCCESS;
}

PLUM_EXPORT int plum_get_local_address(char *buffer, size_t size) {
	if (!buffer && size)
		return PLUM_ERR_INVALID;
	auto r = default_client().get_local_address();
	if (!r)
		return PLUM_ERR_NOT_AVAIL;
	const int len = std::snprintf(buffer, size, "%s", r->c_str());
	return len < 0 ? PLUM_ERR_FAILED : len;
}

// plum fetches nothing from the internet, so it has no certificates.
PLUM_EXPORT int plum_get_dummytls_certificate(plum_dummytls_cert_type_t, char *buffer,
                                              size_t size) {
	if (!buffer && size)
		return PLUM_ERR_INVALID;
	return PLUM_ERR_NOT_AVAIL;
}

// The DummyTLS name of an address: its dots and colons become dashes, under
// the configured domain ("1.2.3.4" → "1-2-3-4.example.net"). Pure: plum
// does not resolve the name to check it.
PLUM_EXPORT int plum_get_dummytls_host(const char *address, char *buffer, size_t size) {
	if (!address || (!buffer && size))
		return PLUM_ERR_INVALID;
	std::error_code ec;
	auto addr = asio::ip::make_address(address, ec);
	if (ec)
		return PLUM_ERR_INVALID;
	std::string domain;
	{
		std::lock_guard lock(c_state().mutex);
		domain = c_state().dummytls_domain;
	}
	if (domain.empty())
		return PLUM_ERR_FAILED;
	std::string host = addr.to_string();
	for (char &ch : host)
		if (ch == '.' || ch == ':')
			ch = '-';
	const int len = std::snprintf(buffer, size, "%s.%s", host.c_str(), domain.c_str());
	if (len < 0 || static_cast<size_t>(len) >= size)
		return PLUM_ERR_FAILED;
	return len;
}

} // extern "C"
