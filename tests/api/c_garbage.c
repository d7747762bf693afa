/*
 * A program written for libplum, as bindings write them: plum_config_t and
 * plum_mapping_t live in memory full of garbage (0xA5 bytes, or with
 * --uninit memory never written, for valgrind), and only libplum's fields
 * are set. plum must read nothing else: each cycle of init, two mappings,
 * SUCCESS, destroy, DESTROYED once each, cleanup must work, and no cycle
 * may see a setting of the one before.
 *
 * usage: c_garbage [--uninit] mock PCP_PORT CYCLES   (the loopback mock router)
 *        c_garbage [--uninit] lab CYCLES PCP|UPNP     (the lab: plain plum_init;
 *                                                      the protocol it must use)
 *
 * In mock mode plum's own settings pin the gateway to 127.0.0.1 through
 * plum_config_ext_t, and alternate between PCP and NAT-PMP so that a cycle
 * that inherited the last one's protocols would report the wrong one. In
 * lab mode nothing but libplum's API is used: the lab's default gateway is
 * its router. Exit status 0 when every check held.
 */
#define _POSIX_C_SOURCE 200809L
#include "plum/plum.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kMappings = 2, kWaitMs = 15000, kGarbage = 0xA5 };

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_changed;
static int g_success[kMappings];
static int g_destroyed[kMappings];
static int g_failure;
static int g_bad_user_ptr;
static int g_callbacks;
static int g_ids[kMappings];
static char g_cookies[kMappings]; /* each mapping's user_ptr points at one */

static int failures;

#define EXPECT(cond)                                                                               \
	do {                                                                                           \
		if (!(cond)) {                                                                             \
			fprintf(stderr, "%s:%d: cycle %d: FAILED: %s\n", __FILE__, __LINE__, cycle, #cond);   \
			++failures;                                                                            \
		}                                                                                          \
	} while (0)

static int slot_of(int id) {
	for (int i = 0; i < kMappings; ++i)
		if (g_ids[i] == id)
			return i;
	return -1;
}

static void on_mapping(int id, plum_state_t state, const plum_mapping_t *mapping) {
	pthread_mutex_lock(&g_lock);
	++g_callbacks;
	const int i = slot_of(id);
	if (i < 0 || mapping->user_ptr != &g_cookies[i])
		++g_bad_user_ptr;
	else if (state == PLUM_STATE_SUCCESS)
		++g_success[i];
	else if (state == PLUM_STATE_DESTROYED)
		++g_destroyed[i];
	else if (state == PLUM_STATE_FAILURE)
		++g_failure;
	pthread_cond_broadcast(&g_changed);
	pthread_mutex_unlock(&g_lock);
}

static int all_reached(const int *counts) {
	for (int i = 0; i < kMappings; ++i)
		if (counts[i] < 1)
			return 0;
	return 1;
}

/* Waits for every mapping to reach counts[i] >= 1, up to kWaitMs. */
static int wait_all(const int *counts) {
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += kWaitMs / 1000;
	pthread_mutex_lock(&g_lock);
	int ok = all_reached(counts);
	while (!ok && pthread_cond_timedwait(&g_changed, &g_lock, &deadline) == 0)
		ok = all_reached(counts);
	ok = all_reached(counts);
	pthread_mutex_unlock(&g_lock);
	return ok;
}

/* Memory as a binding leaves it: 0xA5 bytes, or never written. */
static void *garbage(size_t size, int uninit) {
	void *p = malloc(size);
	if (p && !uninit)
		memset(p, kGarbage, size);
	return p;
}

static int run_cycle(int cycle, int lab, plum_mapping_protocol_t lab_protocol, uint16_t pcp_port,
                     int uninit) {
	pthread_mutex_lock(&g_lock);
	memset(g_success, 0, sizeof(g_success));
	memset(g_destroyed, 0, sizeof(g_destroyed));
	g_failure = g_bad_user_ptr = g_callbacks = 0;
	for (int i = 0; i < kMappings; ++i)
		g_ids[i] = -1;
	pthread_mutex_unlock(&g_lock);

	/* libplum's six fields, and nothing else. */
	plum_config_t *config = garbage(sizeof(*config), uninit);
	config->log_level = PLUM_LOG_LEVEL_WARN;
	config->log_callback = NULL;
	config->dummytls_domain = cycle % 2 ? NULL : "example.net";
	config->discover_timeout = 0;
	config->mapping_timeout = 0;
	config->recheck_period = 0;

	/* Natural order: PCP, else NAT-PMP on odd cycles in mock mode. */
	const plum_mapping_protocol_t want =
	    lab ? lab_protocol : (cycle % 2 ? PLUM_MAPPING_PROTOCOL_NATPMP : PLUM_MAPPING_PROTOCOL_PCP);
	int rc;
	if (lab) {
		rc = plum_init(config);
	} else {
		plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
		ext.gateway_address = "127.0.0.1";
		ext.local_address = "127.0.0.1";
		ext.pcp_port = pcp_port;
		ext.protocols = want == PLUM_MAPPING_PROTOCOL_PCP ? PLUM_PROTOCOL_FLAG_PCP
		                                                  : PLUM_PROTOCOL_FLAG_NATPMP;
		rc = plum_init_ext(config, &ext);
	}
	free(config); /* plum keeps nothing of it */
	EXPECT(rc == PLUM_ERR_SUCCESS);
	if (rc != PLUM_ERR_SUCCESS)
		return 0;

	/* The DummyTLS domain is this init's, never the last one's. */
	char host[PLUM_MAX_HOST_LEN];
	const int host_len = plum_get_dummytls_host("192.0.2.1", host, sizeof(host));
	if (cycle % 2)
		EXPECT(host_len == PLUM_ERR_FAILED);
	else
		EXPECT(host_len > 0 && strcmp(host, "192-0-2-1.example.net") == 0);

	for (int i = 0; i < kMappings; ++i) {
		/* protocol, internal_port, external_port and user_ptr: the inputs.
		 * mapping_protocol and external_host stay garbage. */
		plum_mapping_t *m = garbage(sizeof(*m), uninit);
		m->protocol = i % 2 ? PLUM_IP_PROTOCOL_UDP : PLUM_IP_PROTOCOL_TCP;
		m->internal_port = (uint16_t)(20000 + cycle * kMappings + i);
		m->external_port = 0;
		m->user_ptr = &g_cookies[i];
		pthread_mutex_lock(&g_lock);
		const int id = plum_create_mapping(m, on_mapping);
		g_ids[i] = id;
		pthread_mutex_unlock(&g_lock);
		free(m);
		EXPECT(id >= 0);
	}
	EXPECT(wait_all(g_success));

	for (int i = 0; i < kMappings; ++i) {
		plum_state_t state = (plum_state_t)kGarbage;
		plum_mapping_t *out = garbage(sizeof(*out), uninit);
		EXPECT(plum_query_mapping(g_ids[i], &state, out) == PLUM_ERR_SUCCESS);
		EXPECT(state == PLUM_STATE_SUCCESS);
		EXPECT(out->user_ptr == &g_cookies[i]); /* the one given, not the garbage */
		EXPECT(out->protocol == (i % 2 ? PLUM_IP_PROTOCOL_UDP : PLUM_IP_PROTOCOL_TCP));
		EXPECT(memchr(out->external_host, '\0', sizeof(out->external_host)) != NULL);
		EXPECT(out->external_port != 0);
		EXPECT(out->mapping_protocol == want);
		free(out);
	}

	/* A protocol that is neither TCP nor UDP is refused. */
	plum_mapping_t bad;
	memset(&bad, kGarbage, sizeof(bad));
	bad.internal_port = 9;
	EXPECT(plum_create_mapping(&bad, on_mapping) == PLUM_ERR_INVALID);

	for (int i = 0; i < kMappings; ++i)
		EXPECT(plum_destroy_mapping(g_ids[i]) == PLUM_ERR_SUCCESS);
	EXPECT(wait_all(g_destroyed));
	EXPECT(plum_cleanup() == PLUM_ERR_SUCCESS);

	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < kMappings; ++i) {
		EXPECT(g_success[i] == 1);
		EXPECT(g_destroyed[i] == 1); /* exactly once */
	}
	EXPECT(g_failure == 0);
	EXPECT(g_bad_user_ptr == 0);
	EXPECT(g_callbacks == 2 * kMappings);
	pthread_mutex_unlock(&g_lock);
	return 1;
}

int main(int argc, char **argv) {
	int cycle = -1;
	int arg = 1;
	const int uninit = argc > arg && strcmp(argv[arg], "--uninit") == 0;
	arg += uninit;
	const int lab = argc > arg && strcmp(argv[arg], "lab") == 0;
	if (argc != arg + 3 || (!lab && strcmp(argv[arg], "mock") != 0) ||
	    (lab && strcmp(argv[arg + 2], "PCP") != 0 && strcmp(argv[arg + 2], "UPNP") != 0)) {
		fprintf(stderr, "usage: c_garbage [--uninit] mock PCP_PORT CYCLES | lab CYCLES PCP|UPNP\n");
		return 2;
	}
	const uint16_t pcp_port = lab ? 0 : (uint16_t)atoi(argv[arg + 1]);
	const int cycles = atoi(argv[lab ? arg + 1 : arg + 2]);
	const plum_mapping_protocol_t lab_protocol =
	    lab && strcmp(argv[arg + 2], "UPNP") == 0 ? PLUM_MAPPING_PROTOCOL_UPNP
	                                              : PLUM_MAPPING_PROTOCOL_PCP;

	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g_changed, &attr);
	pthread_condattr_destroy(&attr);

	/* plum's own struct with a garbage size is refused, and nothing starts. */
	if (!lab) {
		cycle = 0;
		plum_config_ext_t ext;
		memset(&ext, kGarbage, sizeof(ext));
		EXPECT(plum_init_ext(NULL, &ext) == PLUM_ERR_INVALID);
		EXPECT(plum_cleanup() == PLUM_ERR_FAILED);
	}

	for (cycle = 0; cycle < cycles; ++cycle)
		if (!run_cycle(cycle, lab, lab_protocol, pcp_port, uninit))
			break;
	printf("%d cycles of init, %d mappings, destroy, cleanup: %s\n", cycles, kMappings,
	       failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
