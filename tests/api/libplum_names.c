/* Compiles only if plum.h declares every name of libplum's C API with the
 * types libplum gives them: a program written for libplum must build
 * unchanged. Run, it checks the documented values and calls. */
#include "plum/plum.h"

#include <stdio.h>
#include <string.h>

static int callbacks;

static void on_log(plum_log_level_t level, const char *message) {
	(void)level;
	(void)message;
}

static void on_mapping(int id, plum_state_t state, const plum_mapping_t *mapping) {
	(void)id;
	(void)state;
	(void)mapping;
	++callbacks;
}

#define EXPECT(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                         \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                        \
			return 1;                                                                          \
		}                                                                                      \
	} while (0)

int main(void) {
	EXPECT(PLUM_ERR_SUCCESS == 0 && PLUM_ERR_INVALID == -1 && PLUM_ERR_FAILED == -2 &&
	       PLUM_ERR_NOT_AVAIL == -3);
	EXPECT(PLUM_LOG_LEVEL_VERBOSE == 0 && PLUM_LOG_LEVEL_DEBUG == 1 && PLUM_LOG_LEVEL_INFO == 2 &&
	       PLUM_LOG_LEVEL_WARN == 3 && PLUM_LOG_LEVEL_ERROR == 4 && PLUM_LOG_LEVEL_FATAL == 5 &&
	       PLUM_LOG_LEVEL_NONE == 6);
	EXPECT(PLUM_IP_PROTOCOL_TCP == 0 && PLUM_IP_PROTOCOL_UDP == 1);
	EXPECT(PLUM_STATE_DESTROYED == 0 && PLUM_STATE_PENDING == 1 && PLUM_STATE_SUCCESS == 2 &&
	       PLUM_STATE_FAILURE == 3 && PLUM_STATE_DESTROYING == 4);
	EXPECT(PLUM_MAPPING_PROTOCOL_UNKNOWN == 0 && PLUM_MAPPING_PROTOCOL_PCP == 1 &&
	       PLUM_MAPPING_PROTOCOL_NATPMP == 2 && PLUM_MAPPING_PROTOCOL_UPNP == 3 &&
	       PLUM_MAPPING_PROTOCOL_DIRECT == 4);
	EXPECT(PLUM_MAX_HOST_LEN == 256 && PLUM_MAX_ADDRESS_LEN == 64);
	EXPECT(PLUM_DUMMYTLS_PEM_CERT == 0 && PLUM_DUMMYTLS_PEM_CHAIN == 1 &&
	       PLUM_DUMMYTLS_PEM_FULLCHAIN == 2 && PLUM_DUMMYTLS_PEM_PRIVKEY == 3);

	/* libplum's field order: a positional initializer must still work. */
	plum_mapping_t m = {PLUM_IP_PROTOCOL_TCP, PLUM_MAPPING_PROTOCOL_UNKNOWN, 8080, 0, "", NULL};
	EXPECT(offsetof(plum_mapping_t, protocol) == 0);
	EXPECT(offsetof(plum_mapping_t, internal_port) > offsetof(plum_mapping_t, mapping_protocol));
	EXPECT(sizeof(m.external_host) == PLUM_MAX_HOST_LEN);

	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_NONE;
	config.log_callback = on_log;
	config.dummytls_domain = "example.net";
	config.discover_timeout = 0;
	config.mapping_timeout = 0;
	config.recheck_period = 0;
	config.discover_timeout = 300;
	/* Keep this run on loopback: pin the gateway and the local address. */
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
	ext.gateway_address = "127.0.0.1";
	ext.local_address = "127.0.0.1";
	ext.protocols = PLUM_PROTOCOL_FLAG_PCP | PLUM_PROTOCOL_FLAG_NATPMP;
	ext.pcp_port = 9; /* discard: nothing listens on loopback */

	/* libplum's own init, by type only: called here it would look for the
	 * host's gateway, which a test must never probe. */
	int (*init)(const plum_config_t *) = plum_init;
	EXPECT(init != NULL);

	EXPECT(plum_cleanup() == PLUM_ERR_FAILED); /* before init */
	EXPECT(plum_create_mapping(&m, on_mapping) == PLUM_ERR_FAILED);
	EXPECT(plum_init_ext(&config, &ext) == PLUM_ERR_SUCCESS);
	EXPECT(plum_init_ext(&config, &ext) == PLUM_ERR_FAILED); /* twice */

	char host[PLUM_MAX_HOST_LEN];
	EXPECT(plum_get_dummytls_host("192.0.2.1", host, sizeof(host)) > 0);
	EXPECT(strcmp(host, "192-0-2-1.example.net") == 0);
	EXPECT(plum_get_dummytls_host(NULL, host, sizeof(host)) == PLUM_ERR_INVALID);
	EXPECT(plum_get_dummytls_certificate(PLUM_DUMMYTLS_PEM_CERT, host, sizeof(host)) ==
	       PLUM_ERR_NOT_AVAIL);
	char address[PLUM_MAX_ADDRESS_LEN];
	EXPECT(plum_get_local_address(address, sizeof(address)) == (int)strlen("127.0.0.1"));
	EXPECT(strcmp(address, "127.0.0.1") == 0);

	EXPECT(plum_create_mapping(NULL, on_mapping) == PLUM_ERR_INVALID);
	int id = plum_create_mapping(&m, on_mapping);
	EXPECT(id >= 0);
	plum_state_t state;
	plum_mapping_t out;
	EXPECT(plum_query_mapping(id, &state, &out) == PLUM_ERR_SUCCESS);
	EXPECT(state == PLUM_STATE_PENDING || state == PLUM_STATE_FAILURE);
	EXPECT(out.internal_port == 8080);
	EXPECT(plum_query_mapping(-1, &state, &out) == PLUM_ERR_INVALID);
	EXPECT(plum_query_mapping(id + 1000, &state, &out) == PLUM_ERR_NOT_AVAIL);
	EXPECT(plum_destroy_mapping(id + 1000) == PLUM_ERR_NOT_AVAIL);
	EXPECT(plum_destroy_mapping(id) == PLUM_ERR_SUCCESS);
	EXPECT(plum_cleanup() == PLUM_ERR_SUCCESS);
	EXPECT(plum_cleanup() == PLUM_ERR_FAILED); /* twice */
	printf("libplum C API: names, values and calls OK\n");
	return 0;
}
