// libplum's global API, on one default client.
#include "plum/plum.hpp"

namespace plum {

Client &default_client() {
	static Client client;
	return client;
}

Result<void> init(Config config) { return default_client().init(std::move(config)); }

Result<void> cleanup() { return default_client().cleanup(); }

std::future<Result<MappingResult>> create_mapping(IpProtocol protocol, uint16_t internal_port,
                                                  uint16_t external_port,
                                                  std::chrono::milliseconds timeout,
                                                  StateCallback on_state_change) {
	return default_client().create_mapping(protocol, internal_port, external_port, timeout,
	                                       std::move(on_state_change));
}

void destroy_mapping(int id) { default_client().destroy_mapping(id); }

bool has_mapping(int id) { return default_client().has_mapping(id); }

Result<std::string> get_local_address() { return default_client().get_local_address(); }

} // namespace plum
