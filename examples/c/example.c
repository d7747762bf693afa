/*
 * plum from C, in the shape of libplum's own example: init, map a TCP port
 * with a callback, wait for the result, keep the mapping a while, destroy
 * it, clean up. It uses libplum's API only, plus one plum setting to pin
 * the gateway.
 *
 * usage: plum-example-c [GATEWAY [HOLD_SECONDS]]
 *   GATEWAY       the router's IPv4 address (or $PLUM_GATEWAY); without it,
 *                 plum asks the gateway of the default route
 *   HOLD_SECONDS  how long to keep the mapping before removing it (10)
 *
 * Exit status 0 when the port was mapped and then removed, 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L

#include <plum/plum.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kInternalPort = 8080, kResultTimeoutMs = 30000, kDestroyTimeoutMs = 15000 };

/* The callback runs on plum's thread: it hands the state over to main()
 * under a lock, and main() waits on the condition variable. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_changed;
static plum_state_t g_state = PLUM_STATE_PENDING;

static const char *protocol_name(plum_mapping_protocol_t protocol) {
	switch (protocol) {
	case PLUM_MAPPING_PROTOCOL_PCP: return "PCP";
	case PLUM_MAPPING_PROTOCOL_NATPMP: return "NAT-PMP";
	case PLUM_MAPPING_PROTOCOL_UPNP: return "UPnP";
	case PLUM_MAPPING_PROTOCOL_DIRECT: return "direct";
	default: return "unknown";
	}
}

static void on_mapping(int id, plum_state_t state, const plum_mapping_t *mapping) {
	switch (state) {
	case PLUM_STATE_SUCCESS:
		printf("mapping %d: SUCCESS external %s:%hu internal %hu via %s\n", id,
		       mapping->external_host, mapping->external_port, mapping->internal_port,
		       protocol_name(mapping->mapping_protocol));
		break;
	case PLUM_STATE_FAILURE: printf("mapping %d: FAILURE\n", id); break;
	case PLUM_STATE_DESTROYED: printf("mapping %d: DESTROYED\n", id); break;
	default: break;
	}
	fflush(stdout);

	pthread_mutex_lock(&g_lock);
	g_state = state;
	pthread_cond_broadcast(&g_changed);
	pthread_mutex_unlock(&g_lock);
}

/* Waits until the callback has reported a state in `wanted` (a mask of
 * 1 << state), at most timeout_ms; returns the last state reported. */
static plum_state_t wait_for(unsigned wanted, long timeout_ms) {
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec += 1;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g_lock);
	while (!(wanted & (1u << g_state)))
		if (pthread_cond_timedwait(&g_changed, &g_lock, &deadline) == ETIMEDOUT)
			break;
	plum_state_t state = g_state;
	pthread_mutex_unlock(&g_lock);
	return state;
}

static void sleep_seconds(int seconds) {
	struct timespec left = {seconds, 0};
	while (nanosleep(&left, &left) != 0 && errno == EINTR) {
	}
}

int main(int argc, char **argv) {
	const char *gateway = argc > 1 ? argv[1] : getenv("PLUM_GATEWAY");
	int hold_seconds = argc > 2 ? atoi(argv[2]) : 10;

	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g_changed, &attr);
	pthread_condattr_destroy(&attr);

	/* A zeroed config means libplum's defaults. */
	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_WARN;
	/* plum's own settings, beyond libplum's: here the gateway, when given
	 * (NULL: the default route's). */
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
	if (gateway && *gateway)
		ext.gateway_address = gateway;
	if (plum_init_ext(&config, &ext) != PLUM_ERR_SUCCESS) {
		fprintf(stderr, "plum_init failed\n");
		return 1;
	}

	plum_mapping_t mapping;
	memset(&mapping, 0, sizeof(mapping));
	mapping.protocol = PLUM_IP_PROTOCOL_TCP;
	mapping.internal_port = kInternalPort;
	mapping.external_port = kInternalPort; /* a wish; the router may give another */
	int id = plum_create_mapping(&mapping, on_mapping);
	if (id < 0) {
		fprintf(stderr, "plum_create_mapping failed\n");
		plum_cleanup();
		return 1;
	}

	int status = 1;
	plum_state_t state =
	    wait_for((1u << PLUM_STATE_SUCCESS) | (1u << PLUM_STATE_FAILURE), kResultTimeoutMs);
	if (state == PLUM_STATE_SUCCESS) {
		printf("holding the mapping for %d s\n", hold_seconds);
		fflush(stdout);
		sleep_seconds(hold_seconds);
		status = 0;
	} else {
		fprintf(stderr, "no mapping: %s\n", state == PLUM_STATE_FAILURE ? "FAILURE" : "timeout");
	}

	/* Asynchronous: DESTROYED arrives once the router has removed it. */
	plum_destroy_mapping(id);
	if (wait_for(1u << PLUM_STATE_DESTROYED, kDestroyTimeoutMs) != PLUM_STATE_DESTROYED) {
		fprintf(stderr, "the mapping was not destroyed in time\n");
		status = 1;
	}
	if (plum_cleanup() != PLUM_ERR_SUCCESS)
		status = 1;
	pthread_cond_destroy(&g_changed);
	return status;
}
