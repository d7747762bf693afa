/*
 * tools/bench --footprint: an application holding one mapping through plum's
 * C API, linked against libplum.a the way an embedder links it. Its stripped
 * size minus empty.c's is plum's static growth; run against the loopback
 * mock router, it is the process whose threads, idle wakeups and RSS are
 * counted.
 *
 * usage: one_mapping PCP_PORT HOLD_SECONDS
 * Maps UDP 9000 with PCP on 127.0.0.1 (pinned: never the host's router),
 * prints "mapped" once it is SUCCESS, holds it HOLD_SECONDS, then destroys it
 * and cleans up. Exit 0 when every step did what the API promises.
 */
#define _POSIX_C_SOURCE 200809L
#include <plum/plum.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(const char *what) {
	fprintf(stderr, "one_mapping: %s\n", what);
	return 1;
}

static void sleep_ms(long ms) {
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0) {
	}
}

int main(int argc, char **argv) {
	if (argc != 3)
		return fail("usage: one_mapping PCP_PORT HOLD_SECONDS");

	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_WARN;
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
	ext.gateway_address = "127.0.0.1";
	ext.local_address = "127.0.0.1";
	ext.pcp_port = (uint16_t)atoi(argv[1]);
	ext.protocols = PLUM_PROTOCOL_FLAG_PCP;
	if (plum_init_ext(&config, &ext) != PLUM_ERR_SUCCESS)
		return fail("plum_init failed");

	plum_mapping_t mapping;
	memset(&mapping, 0, sizeof(mapping));
	mapping.protocol = PLUM_IP_PROTOCOL_UDP;
	mapping.internal_port = 9000;
	int id = plum_create_mapping(&mapping, NULL);
	if (id < 0)
		return fail("plum_create_mapping failed");

	plum_state_t state = PLUM_STATE_PENDING;
	plum_mapping_t out;
	for (int waited = 0; waited < 10000 && state != PLUM_STATE_SUCCESS; waited += 10) {
		if (plum_query_mapping(id, &state, &out) != PLUM_ERR_SUCCESS)
			return fail("plum_query_mapping failed");
		if (state != PLUM_STATE_SUCCESS)
			sleep_ms(10);
	}
	if (state != PLUM_STATE_SUCCESS)
		return fail("no SUCCESS within 10 s");
	puts("mapped");
	fflush(stdout);

	sleep_ms(atol(argv[2]) * 1000L);

	if (plum_destroy_mapping(id) != PLUM_ERR_SUCCESS)
		return fail("plum_destroy_mapping failed");
	if (plum_cleanup() != PLUM_ERR_SUCCESS)
		return fail("plum_cleanup failed");
	puts("done");
	return 0;
}
