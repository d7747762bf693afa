/* The shape of libplum's own example, written against libplum's API only:
 * a zeroed config, two TCP mappings, wait for them, destroy both, cleanup.
 * The one plum-specific line pins the gateway so the test stays on
 * loopback (usage: libplum_example PCP_PORT). */
#define _POSIX_C_SOURCE 200809L
#include "plum/plum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile int successes;
static volatile int destroyed;

static void mapping_callback(int id, plum_state_t state, const plum_mapping_t *mapping) {
	if (state == PLUM_STATE_SUCCESS) {
		printf("mapping %d: %s:%hu (internal %hu)\n", id, mapping->external_host,
		       mapping->external_port, mapping->internal_port);
		__atomic_add_fetch(&successes, 1, __ATOMIC_SEQ_CST);
	} else if (state == PLUM_STATE_DESTROYED) {
		__atomic_add_fetch(&destroyed, 1, __ATOMIC_SEQ_CST);
	} else if (state == PLUM_STATE_FAILURE) {
		printf("mapping %d failed\n", id);
	}
}

static void sleep_ms(long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_WARN;
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT; /* plum: pin the (mock) gateway */
	ext.gateway_address = "127.0.0.1";
	ext.local_address = "127.0.0.1";
	ext.pcp_port = (uint16_t)atoi(argv[1]);
	ext.protocols = PLUM_PROTOCOL_FLAG_PCP | PLUM_PROTOCOL_FLAG_NATPMP;
	if (plum_init_ext(&config, &ext) != PLUM_ERR_SUCCESS)
		return 1;

	plum_mapping_t mapping;
	memset(&mapping, 0, sizeof(mapping));
	mapping.protocol = PLUM_IP_PROTOCOL_TCP;
	mapping.internal_port = 8000;
	int id1 = plum_create_mapping(&mapping, mapping_callback);
	mapping.internal_port = 8001;
	int id2 = plum_create_mapping(&mapping, mapping_callback);
	if (id1 < 0 || id2 < 0)
		return 1;

	for (int i = 0; i < 500 && __atomic_load_n(&successes, __ATOMIC_SEQ_CST) < 2; ++i)
		sleep_ms(10);
	if (successes != 2) {
		fprintf(stderr, "expected 2 successes, got %d\n", successes);
		return 1;
	}
	plum_state_t state;
	plum_mapping_t out;
	if (plum_query_mapping(id1, &state, &out) != PLUM_ERR_SUCCESS || state != PLUM_STATE_SUCCESS ||
	    out.mapping_protocol != PLUM_MAPPING_PROTOCOL_PCP)
		return 1;

	plum_destroy_mapping(id1);
	plum_destroy_mapping(id2);
	for (int i = 0; i < 500 && __atomic_load_n(&destroyed, __ATOMIC_SEQ_CST) < 2; ++i)
		sleep_ms(10);
	if (destroyed != 2) {
		fprintf(stderr, "expected 2 destroyed, got %d\n", destroyed);
		return 1;
	}
	return plum_cleanup() == PLUM_ERR_SUCCESS ? 0 : 1;
}
