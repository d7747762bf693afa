/*
 * lab_churn: rounds of mappings created, granted and destroyed through the C
 * API (libplum's fields only: the gateway is the lab client's default
 * route), inside the lab's client namespace. It checks what an application
 * relies on: every mapping is granted with the expected protocol, every one
 * is destroyed exactly once, and no callback comes after plum_cleanup().
 *
 * usage: lab_churn ROUNDS COUNT EXPECT
 *   EXPECT  PCP | NATPMP | UPNP: the mapping protocol wanted
 *
 * Lines on stdout:
 *   round=1 success=100 failure=0 destroyed=100 protocol_mismatch=0 ms=812
 *   total success=300 failure=0 destroyed=300 late_callbacks=0 rss_growth_kb=24 ms=2480
 *   result=ok | result=fail reason=...
 * Exit status: 0 as expected, 1 anything else, 2 usage.
 */
#define _POSIX_C_SOURCE 200809L

#include "plum/plum.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kMaxCount = 1000, kBasePort = 20000, kPollMs = 10, kWaitMs = 30000 };

typedef struct {
	int success, failure, destroyed, mismatch;
} Tally;

/* Callbacks arrive on plum's thread; main reads them under this lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_ids[kMaxCount];
static int g_success[kMaxCount];
static int g_failure[kMaxCount];
static int g_destroyed[kMaxCount];
static int g_mismatch[kMaxCount];
static int g_count;
static long g_callbacks;
static plum_mapping_protocol_t g_expect;

static long now_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static long rss_kb(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* The slot of a mapping id in this round, or -1. Under g_lock. */
static int slot_of(int id) {
	for (int i = 0; i < g_count; ++i)
		if (g_ids[i] == id)
			return i;
	return -1;
}

static void on_change(int id, plum_state_t state, const plum_mapping_t *m) {
	pthread_mutex_lock(&g_lock);
	++g_callbacks;
	int i = slot_of(id);
	if (i >= 0) {
		if (state == PLUM_STATE_SUCCESS) {
			++g_success[i];
			if (m->mapping_protocol != g_expect)
				++g_mismatch[i];
		} else if (state == PLUM_STATE_FAILURE) {
			++g_failure[i];
		} else if (state == PLUM_STATE_DESTROYED) {
			++g_destroyed[i];
		}
	}
	pthread_mutex_unlock(&g_lock);
}

/* Waits until every slot has `field` set (or the deadline). */
static int wait_all(int *field, long deadline) {
	for (;;) {
		int done = 0;
		pthread_mutex_lock(&g_lock);
		for (int i = 0; i < g_count; ++i)
			done += field[i] > 0 || (field == g_success && g_failure[i] > 0);
		pthread_mutex_unlock(&g_lock);
		if (done == g_count)
			return 1;
		if (now_ms() >= deadline)
			return 0;
		sleep_ms(kPollMs);
	}
}

static Tally tally(void) {
	Tally t = {0, 0, 0, 0};
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < g_count; ++i) {
		t.success += g_success[i];
		t.failure += g_failure[i];
		t.destroyed += g_destroyed[i];
		t.mismatch += g_mismatch[i];
	}
	pthread_mutex_unlock(&g_lock);
	return t;
}

static int fail(const char *reason) {
	printf("result=fail reason=%s\n", reason);
	return 1;
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: lab_churn ROUNDS COUNT PCP|NATPMP|UPNP\n");
		return 2;
	}
	const int rounds = atoi(argv[1]);
	const int count = atoi(argv[2]);
	if (rounds < 1 || rounds > 100 || count < 1 || count > kMaxCount)
		return 2;
	if (strcmp(argv[3], "PCP") == 0)
		g_expect = PLUM_MAPPING_PROTOCOL_PCP;
	else if (strcmp(argv[3], "NATPMP") == 0)
		g_expect = PLUM_MAPPING_PROTOCOL_NATPMP;
	else if (strcmp(argv[3], "UPNP") == 0)
		g_expect = PLUM_MAPPING_PROTOCOL_UPNP;
	else
		return 2;

	plum_config_t config;
	memset(&config, 0, sizeof config);
	config.log_level = getenv("CHURN_VERBOSE") ? PLUM_LOG_LEVEL_DEBUG : PLUM_LOG_LEVEL_WARN;
	if (plum_init(&config) != PLUM_ERR_SUCCESS)
		return fail("plum_init");

	const long start = now_ms();
	long rss_start = -1;
	Tally total = {0, 0, 0, 0};
	for (int r = 1; r <= rounds; ++r) {
		const long round_start = now_ms();
		pthread_mutex_lock(&g_lock);
		g_count = count;
		for (int i = 0; i < count; ++i) {
			g_ids[i] = -1;
			g_success[i] = g_failure[i] = g_destroyed[i] = g_mismatch[i] = 0;
		}
		/* Created under the lock: a callback for an id not yet recorded
		 * waits here instead of being missed. */
		for (int i = 0; i < count; ++i) {
			plum_mapping_t m;
			memset(&m, 0, sizeof m);
			m.protocol = (i % 2) ? PLUM_IP_PROTOCOL_UDP : PLUM_IP_PROTOCOL_TCP;
			m.internal_port = (uint16_t)(kBasePort + i);
			g_ids[i] = plum_create_mapping(&m, on_change);
		}
		pthread_mutex_unlock(&g_lock);
		for (int i = 0; i < count; ++i)
			if (g_ids[i] < 0)
				return fail("plum_create_mapping");
		if (!wait_all(g_success, now_ms() + kWaitMs))
			return fail("not every mapping got a verdict in time");
		for (int i = 0; i < count; ++i)
			plum_destroy_mapping(g_ids[i]);
		if (!wait_all(g_destroyed, now_ms() + kWaitMs))
			return fail("not every mapping was destroyed in time");
		const Tally t = tally();
		printf("round=%d success=%d failure=%d destroyed=%d protocol_mismatch=%d ms=%ld\n", r,
		       t.success, t.failure, t.destroyed, t.mismatch, now_ms() - round_start);
		total.success += t.success;
		total.failure += t.failure;
		total.destroyed += t.destroyed;
		total.mismatch += t.mismatch;
		if (r == 1)
			rss_start = rss_kb(); /* after the first round: warmed up */
	}
	const long rss_end = rss_kb();

	/* One last batch left for cleanup to remove, then nothing may follow. */
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < count; ++i) {
		plum_mapping_t m;
		memset(&m, 0, sizeof m);
		m.protocol = PLUM_IP_PROTOCOL_TCP;
		m.internal_port = (uint16_t)(kBasePort + i);
		g_ids[i] = plum_create_mapping(&m, on_change);
		g_success[i] = g_failure[i] = g_destroyed[i] = g_mismatch[i] = 0;
	}
	pthread_mutex_unlock(&g_lock);
	if (!wait_all(g_success, now_ms() + kWaitMs))
		return fail("the last batch got no verdict in time");
	if (plum_cleanup() != PLUM_ERR_SUCCESS)
		return fail("plum_cleanup");
	pthread_mutex_lock(&g_lock);
	const long at_cleanup = g_callbacks;
	pthread_mutex_unlock(&g_lock);
	sleep_ms(500);
	pthread_mutex_lock(&g_lock);
	const long late = g_callbacks - at_cleanup;
	pthread_mutex_unlock(&g_lock);

	printf("total success=%d failure=%d destroyed=%d protocol_mismatch=%d late_callbacks=%ld "
	       "rss_growth_kb=%ld ms=%ld\n",
	       total.success, total.failure, total.destroyed, total.mismatch, late,
	       rss_start >= 0 && rss_end >= 0 ? rss_end - rss_start : -1, now_ms() - start);
	const int want = rounds * count;
	if (total.success != want || total.failure != 0 || total.destroyed != want)
		return fail("counts");
	if (total.mismatch != 0)
		return fail("protocol");
	if (late != 0)
		return fail("callback_after_cleanup");
	printf("result=ok\n");
	return 0;
}
