/*
 * lab_soak: holds COUNT mappings with short lifetimes through the C API for
 * HOLD_S seconds, in the lab's client namespace, and says how they fared.
 * soak_check.sh watches the router's rules meanwhile and reboots it once.
 *
 * usage: lab_soak COUNT LIFETIME_S HOLD_S pcp|upnp
 * LAB_SOAK_VERBOSE=1 in the environment: plum's debug log on stderr.
 *
 * Lines on stdout:
 *   mapped count=100 elapsed_ms=812              every mapping SUCCESS
 *   tick t=10 success=100 rss_kb=5120            once a second while holding
 *   rss start_kb=5120 end_kb=5124                after the first renewals / at the end
 *   events success=100 failure=0 destroyed=100   callbacks seen, in all
 *   result=ok | result=fail reason=...
 * Exit status 0 when every mapping was SUCCESS at the end of the hold (after
 * at most 15 s for a rebooted router to be caught up with), and each was
 * destroyed exactly once.
 */
#define _POSIX_C_SOURCE 200809L
#include "plum/plum.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kMaxMappings = 1000, kBasePort = 30000, kSettleMs = 15000, kMapMs = 60000 };

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_changed;
static int g_successes, g_failures, g_destroyed;
static int g_destroyed_per[kMaxMappings];
static plum_mapping_protocol_t g_want;
static int g_wrong_protocol;

static struct timespec g_start;

static long elapsed_ms(void) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - g_start.tv_sec) * 1000 + (now.tv_nsec - g_start.tv_nsec) / 1000000;
}

static long rss_kb(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void on_mapping(int id, plum_state_t state, const plum_mapping_t *mapping) {
	pthread_mutex_lock(&g_lock);
	if (state == PLUM_STATE_SUCCESS) {
		++g_successes;
		if (mapping->mapping_protocol != g_want)
			++g_wrong_protocol;
	} else if (state == PLUM_STATE_FAILURE) {
		++g_failures;
	} else if (state == PLUM_STATE_DESTROYED) {
		++g_destroyed;
		if (id >= 0 && id < kMaxMappings)
			++g_destroyed_per[id];
	}
	pthread_cond_broadcast(&g_changed);
	pthread_mutex_unlock(&g_lock);
}

/* How many of the ids are in SUCCESS now. */
static int count_success(const int *ids, int count) {
	int n = 0;
	for (int i = 0; i < count; ++i) {
		plum_state_t state;
		if (plum_query_mapping(ids[i], &state, NULL) == PLUM_ERR_SUCCESS &&
		    state == PLUM_STATE_SUCCESS)
			++n;
	}
	return n;
}

static void sleep_ms(long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Polls until every mapping is SUCCESS, up to ms. */
static int wait_all_success(const int *ids, int count, long ms) {
	const long deadline = elapsed_ms() + ms;
	while (count_success(ids, count) < count) {
		if (elapsed_ms() >= deadline)
			return 0;
		sleep_ms(50);
	}
	return 1;
}

static void on_log(plum_log_level_t level, const char *message) {
	(void)level;
	fprintf(stderr, "%ld %s\n", elapsed_ms(), message);
}

static int fail(const char *reason) {
	printf("result=fail reason=%s\n", reason);
	fflush(stdout);
	return 1;
}

int main(int argc, char **argv) {
	if (argc != 5)
		return fprintf(stderr, "usage: lab_soak COUNT LIFETIME_S HOLD_S pcp|upnp\n"), 2;
	const int count = atoi(argv[1]);
	const unsigned lifetime = (unsigned)atoi(argv[2]);
	const long hold_s = atol(argv[3]);
	const int upnp = strcmp(argv[4], "upnp") == 0;
	if (count <= 0 || count > kMaxMappings || lifetime == 0 || hold_s <= 0)
		return fprintf(stderr, "lab_soak: bad arguments\n"), 2;
	g_want = upnp ? PLUM_MAPPING_PROTOCOL_UPNP : PLUM_MAPPING_PROTOCOL_PCP;
	pthread_cond_init(&g_changed, NULL);
	clock_gettime(CLOCK_MONOTONIC, &g_start);

	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = getenv("LAB_SOAK_VERBOSE") ? PLUM_LOG_LEVEL_DEBUG : PLUM_LOG_LEVEL_WARN;
	config.log_callback = on_log;
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
	ext.lifetime = lifetime;
	if (plum_init_ext(&config, &ext) != PLUM_ERR_SUCCESS)
		return fail("plum_init_ext");

	static int ids[kMaxMappings];
	for (int i = 0; i < count; ++i) {
		plum_mapping_t m;
		memset(&m, 0, sizeof(m));
		m.protocol = PLUM_IP_PROTOCOL_TCP;
		m.internal_port = (uint16_t)(kBasePort + i);
		m.external_port = (uint16_t)(kBasePort + i);
		ids[i] = plum_create_mapping(&m, on_mapping);
		if (ids[i] < 0)
			return fail("plum_create_mapping");
	}
	if (!wait_all_success(ids, count, kMapMs))
		return fail("not every mapping SUCCESS within 60 s");
	printf("mapped count=%d elapsed_ms=%ld\n", count, elapsed_ms());
	fflush(stdout);

	/* RSS once the first renewals have run, and at the end of the hold. */
	const long hold_start = elapsed_ms();
	long rss_start = -1;
	for (long t = 1; t <= hold_s; ++t) {
		sleep_ms(hold_start + t * 1000 - elapsed_ms());
		if (rss_start < 0 && t >= 2 * (long)lifetime)
			rss_start = rss_kb();
		printf("tick t=%ld success=%d rss_kb=%ld\n", t, count_success(ids, count), rss_kb());
		fflush(stdout);
	}
	const long rss_end = rss_kb();
	printf("rss start_kb=%ld end_kb=%ld\n", rss_start < 0 ? rss_end : rss_start, rss_end);

	const int all_success = wait_all_success(ids, count, kSettleMs);
	for (int i = 0; i < count; ++i)
		plum_destroy_mapping(ids[i]);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	pthread_mutex_lock(&g_lock);
	while (g_destroyed < count && pthread_cond_timedwait(&g_changed, &g_lock, &deadline) == 0)
		;
	pthread_mutex_unlock(&g_lock);
	const int cleaned = plum_cleanup() == PLUM_ERR_SUCCESS;

	pthread_mutex_lock(&g_lock);
	printf("events success=%d failure=%d destroyed=%d\n", g_successes, g_failures, g_destroyed);
	int once = 1;
	for (int i = 0; i < count; ++i)
		once = once && g_destroyed_per[ids[i]] == 1;
	const int wrong = g_wrong_protocol;
	pthread_mutex_unlock(&g_lock);
	if (!all_success)
		return fail("not every mapping SUCCESS at the end of the hold");
	if (wrong)
		return fail("a SUCCESS with another protocol than expected");
	if (!once)
		return fail("a mapping not DESTROYED exactly once");
	if (!cleaned)
		return fail("plum_cleanup");
	printf("result=ok\n");
	return 0;
}
