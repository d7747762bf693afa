/*
 * The embedder's program for tests/embed: plum through its installed C
 * header only, built the ways an application would build it (pkg-config,
 * a meson subproject, CMake's find_package(plum) and find_package(LibPlum)),
 * statically and dynamically. It maps one port on the loopback mock router
 * and removes it again.
 *
 * usage: consumer PCP_PORT   (the mock router's, on 127.0.0.1)
 * Prints "consumer: ok" and exits 0 when every step did what libplum's API
 * promises.
 */
#define _POSIX_C_SOURCE 200809L
#include <plum/plum.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kPollMs = 10, kWaitMs = 10000 };

static int fail(const char *what) {
	fprintf(stderr, "consumer: %s\n", what);
	return 1;
}

/* Polls plum_query_mapping until the mapping is in `wanted` or kWaitMs passed. */
static int wait_state(int id, plum_state_t wanted, plum_mapping_t *out) {
	struct timespec pause = {0, kPollMs * 1000000L};
	for (int waited = 0; waited < kWaitMs; waited += kPollMs) {
		plum_state_t state;
		int rc = plum_query_mapping(id, &state, out);
		if (rc == PLUM_ERR_SUCCESS && state == wanted)
			return 1;
		/* A destroyed mapping is gone from plum's table. */
		if (wanted == PLUM_STATE_DESTROYED && rc != PLUM_ERR_SUCCESS)
			return 1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

int main(int argc, char **argv) {
	if (argc != 2)
		return fail("usage: consumer PCP_PORT");

	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_WARN;
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
	ext.gateway_address = "127.0.0.1"; /* pinned: never the host's router */
	ext.local_address = "127.0.0.1";
	ext.pcp_port = (uint16_t)atoi(argv[1]);
	ext.protocols = PLUM_PROTOCOL_FLAG_PCP | PLUM_PROTOCOL_FLAG_NATPMP;
	if (plum_init_ext(&config, &ext) != PLUM_ERR_SUCCESS)
		return fail("plum_init failed");

	char local[PLUM_MAX_ADDRESS_LEN];
	if (plum_get_local_address(local, sizeof(local)) <= 0 || strcmp(local, "127.0.0.1") != 0)
		return fail("plum_get_local_address did not give the pinned 127.0.0.1");

	plum_mapping_t mapping;
	memset(&mapping, 0, sizeof(mapping));
	mapping.protocol = PLUM_IP_PROTOCOL_UDP;
	mapping.internal_port = 9000;
	int id = plum_create_mapping(&mapping, NULL);
	if (id < 0)
		return fail("plum_create_mapping failed");

	plum_mapping_t out;
	if (!wait_state(id, PLUM_STATE_SUCCESS, &out))
		return fail("no SUCCESS within 10 s");
	if (out.mapping_protocol != PLUM_MAPPING_PROTOCOL_PCP || out.external_port == 0 ||
	    out.external_host[0] == '\0')
		return fail("SUCCESS without a PCP mapping and an external address");
	printf("consumer: mapped udp %hu -> %s:%hu\n", out.internal_port, out.external_host,
	       out.external_port);

	if (plum_destroy_mapping(id) != PLUM_ERR_SUCCESS)
		return fail("plum_destroy_mapping failed");
	if (!wait_state(id, PLUM_STATE_DESTROYED, &out))
		return fail("not DESTROYED within 10 s");
	if (plum_cleanup() != PLUM_ERR_SUCCESS)
		return fail("plum_cleanup failed");
	if (plum_cleanup() == PLUM_ERR_SUCCESS)
		return fail("a second plum_cleanup succeeded");
	puts("consumer: ok");
	return 0;
}
