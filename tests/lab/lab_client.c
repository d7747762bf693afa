/*
 * lab_client: drives plum through its C API only (include/plum/plum.h)
 * inside the lab's client namespace, and says in machine-readable lines what
 * happened, so the lab test scripts can compare it with the router's
 * ruleset. Every wait polls plum_query_mapping every 10 ms up to a deadline.
 *
 * usage: lab_client [options] GATEWAY tcp|udp PORT EXPECT MODE [ARG]
 *   EXPECT  PCP | NATPMP | UPNP | DIRECT | ANY: the mapping protocol wanted
 *   MODE    hold MS           map, hold up to MS (or until the go file), destroy
 *           cleanup           map, wait for the go file, then plum_cleanup()
 *           expect-failure MS FAILURE must be reported within MS
 *           restart-check MS  map, signal, then up to MS for the go file (the
 *                             script restarts the router meanwhile); the
 *                             mapping must be SUCCESS again afterwards
 *   -d MS   discover_timeout     -m MS  mapping_timeout    -r MS  recheck_period
 *   -x PORT external port asked  -s FILE write the SUCCESS line there when mapped
 *   -w FILE go file (see modes)  -v     plum's debug log on stderr
 *
 * Lines on stdout:
 *   state=SUCCESS protocol=PCP external=1.2.3.4:8080 internal=8080 elapsed_ms=12
 *   event state=SUCCESS protocol=PCP external=1.2.3.4:8080   (callbacks)
 *   state=DESTROYED elapsed_ms=40
 *   result=ok | result=fail reason=...
 * Exit status: 0 as expected, 1 anything else, 2 usage.
 */
#define _POSIX_C_SOURCE 200809L

#include "plum/plum.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kPollMs = 10, kMaxEvents = 64, kSlackMs = 3000 };

typedef struct {
	plum_state_t state;
	plum_mapping_t mapping;
} Event;

/* Callbacks arrive on plum's thread; main reads them under this lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static Event g_events[kMaxEvents];
static int g_event_count;
static int g_destroyed_count;

static struct timespec g_start;

static long elapsed_ms(void) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - g_start.tv_sec) * 1000 + (now.tv_nsec - g_start.tv_nsec) / 1000000;
}

static void sleep_ms(long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static const char *state_name(plum_state_t s) {
	switch (s) {
	case PLUM_STATE_DESTROYED: return "DESTROYED";
	case PLUM_STATE_PENDING: return "PENDING";
	case PLUM_STATE_SUCCESS: return "SUCCESS";
	case PLUM_STATE_FAILURE: return "FAILURE";
	case PLUM_STATE_DESTROYING: return "DESTROYING";
	}
	return "?";
}

static const char *protocol_name(plum_mapping_protocol_t p) {
	switch (p) {
	case PLUM_MAPPING_PROTOCOL_UNKNOWN: return "UNKNOWN";
	case PLUM_MAPPING_PROTOCOL_PCP: return "PCP";
	case PLUM_MAPPING_PROTOCOL_NATPMP: return "NATPMP";
	case PLUM_MAPPING_PROTOCOL_UPNP: return "UPNP";
	case PLUM_MAPPING_PROTOCOL_DIRECT: return "DIRECT";
	}
	return "?";
}

static void on_state(int id, plum_state_t state, const plum_mapping_t *mapping) {
	(void)id;
	pthread_mutex_lock(&g_lock);
	if (g_event_count < kMaxEvents) {
		g_events[g_event_count].state = state;
		if (mapping)
			g_events[g_event_count].mapping = *mapping;
		++g_event_count;
	}
	if (state == PLUM_STATE_DESTROYED)
		++g_destroyed_count;
	pthread_mutex_unlock(&g_lock);
}

static void on_log(plum_log_level_t level, const char *message) {
	fprintf(stderr, "plum[%d] %s\n", (int)level, message);
}

/* Prints the callbacks that arrived since the last call. */
static void print_events(void) {
	static int printed;
	pthread_mutex_lock(&g_lock);
	for (; printed < g_event_count; ++printed) {
		const Event *e = &g_events[printed];
		printf("event state=%s protocol=%s external=%s:%u\n", state_name(e->state),
		       protocol_name(e->mapping.mapping_protocol),
		       e->mapping.external_host[0] ? e->mapping.external_host : "-",
		       (unsigned)e->mapping.external_port);
	}
	pthread_mutex_unlock(&g_lock);
	fflush(stdout);
}

static int fail(const char *fmt, ...) {
	va_list ap;
	print_events();
	printf("result=fail reason=");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return 1;
}

static void format_state(char *buf, size_t size, plum_state_t state, const plum_mapping_t *m) {
	snprintf(buf, size, "state=%s protocol=%s external=%s:%u internal=%u elapsed_ms=%ld",
	         state_name(state), protocol_name(m->mapping_protocol),
	         m->external_host[0] ? m->external_host : "-", (unsigned)m->external_port,
	         (unsigned)m->internal_port, elapsed_ms());
}

/* Writes line to path atomically (tmp + rename): the script polls for it. */
static int write_file(const char *path, const char *line) {
	char tmp[4096];
	FILE *f;
	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", line);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static int file_exists(const char *path) {
	return path && access(path, F_OK) == 0;
}

/* Polls the mapping until its state leaves PENDING or the deadline passes. */
static plum_state_t wait_settled(int id, long deadline_ms, plum_mapping_t *out) {
	plum_state_t state = PLUM_STATE_PENDING;
	for (;;) {
		memset(out, 0, sizeof(*out));
		if (plum_query_mapping(id, &state, out) != PLUM_ERR_SUCCESS)
			return PLUM_STATE_DESTROYED;
		if (state != PLUM_STATE_PENDING || elapsed_ms() >= deadline_ms)
			return state;
		sleep_ms(kPollMs);
	}
}

/* Waits until the mapping is gone: query says NOT_AVAIL or DESTROYED. */
static int wait_destroyed(int id, long deadline_ms) {
	for (;;) {
		plum_state_t state;
		plum_mapping_t m;
		int destroyed_callbacks;
		memset(&m, 0, sizeof(m));
		pthread_mutex_lock(&g_lock);
		destroyed_callbacks = g_destroyed_count;
		pthread_mutex_unlock(&g_lock);
		if ((plum_query_mapping(id, &state, &m) != PLUM_ERR_SUCCESS ||
		     state == PLUM_STATE_DESTROYED) &&
		    destroyed_callbacks > 0)
			return 0;
		if (elapsed_ms() >= deadline_ms)
			return -1;
		sleep_ms(kPollMs);
	}
}

static void usage(void) {
	fprintf(stderr, "usage: lab_client [-d MS] [-m MS] [-r MS] [-x PORT] [-s FILE] [-w FILE] [-v]\n"
	                "                  GATEWAY tcp|udp PORT PCP|NATPMP|UPNP|DIRECT|ANY\n"
	                "                  hold MS | cleanup | expect-failure MS | restart-check MS\n");
}

static int parse_ms(const char *s, long *out) {
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 3600000)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv) {
	long discover_ms = 0, mapping_ms = 0, recheck_ms = 0, ext_port = 0, port = 0, arg_ms = 0;
	const char *state_file = NULL, *go_file = NULL;
	const char *gateway, *proto, *expect, *mode;
	int verbose = 0, opt, id, rc;
	long settle_deadline;
	plum_config_t config;
	plum_mapping_t request, got;
	plum_state_t state;
	char line[512];

	while ((opt = getopt(argc, argv, "d:m:r:x:s:w:v")) != -1) {
		switch (opt) {
		case 'd':
			if (parse_ms(optarg, &discover_ms))
				return usage(), 2;
			break;
		case 'm':
			if (parse_ms(optarg, &mapping_ms))
				return usage(), 2;
			break;
		case 'r':
			if (parse_ms(optarg, &recheck_ms))
				return usage(), 2;
			break;
		case 'x':
			if (parse_ms(optarg, &ext_port) || ext_port > 65535)
				return usage(), 2;
			break;
		case 's': state_file = optarg; break;
		case 'w': go_file = optarg; break;
		case 'v': verbose = 1; break;
		default: return usage(), 2;
		}
	}
	if (argc - optind < 5)
		return usage(), 2;
	gateway = argv[optind];
	proto = argv[optind + 1];
	if (parse_ms(argv[optind + 2], &port) || port < 1 || port > 65535)
		return usage(), 2;
	expect = argv[optind + 3];
	mode = argv[optind + 4];
	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
		return usage(), 2;
	if (strcmp(mode, "cleanup") != 0) {
		if (argc - optind < 6 || parse_ms(argv[optind + 5], &arg_ms))
			return usage(), 2;
	}

	clock_gettime(CLOCK_MONOTONIC, &g_start);
	memset(&config, 0, sizeof(config));
	config.log_level = verbose ? PLUM_LOG_LEVEL_DEBUG : PLUM_LOG_LEVEL_WARN;
	config.log_callback = on_log;
	config.discover_timeout = (int)discover_ms;
	config.mapping_timeout = (int)mapping_ms;
	config.recheck_period = (int)recheck_ms;
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
	ext.gateway_address = gateway;
	if (plum_init_ext(&config, &ext) != PLUM_ERR_SUCCESS)
		return fail("plum_init");

	memset(&request, 0, sizeof(request));
	request.protocol = strcmp(proto, "udp") == 0 ? PLUM_IP_PROTOCOL_UDP : PLUM_IP_PROTOCOL_TCP;
	request.internal_port = (uint16_t)port;
	request.external_port = (uint16_t)ext_port;
	id = plum_create_mapping(&request, on_state);
	if (id < 0) {
		plum_cleanup();
		return fail("plum_create_mapping=%d", id);
	}

	/* Long enough for discovery and a mapping, with slack for a busy box. */
	settle_deadline = elapsed_ms() + (discover_ms ? discover_ms : 10000) +
	                  (mapping_ms ? mapping_ms : 10000) + kSlackMs;

	if (strcmp(mode, "expect-failure") == 0) {
		state = wait_settled(id, elapsed_ms() + arg_ms, &got);
		format_state(line, sizeof(line), state, &got);
		printf("%s\n", line);
		rc = state == PLUM_STATE_FAILURE ? 0 : 1;
		plum_cleanup();
		print_events();
		if (rc)
			return fail("wanted FAILURE within %ld ms, got %s", arg_ms, state_name(state));
		printf("result=ok\n");
		return 0;
	}

	state = wait_settled(id, settle_deadline, &got);
	format_state(line, sizeof(line), state, &got);
	printf("%s\n", line);
	fflush(stdout);
	if (state != PLUM_STATE_SUCCESS) {
		plum_cleanup();
		return fail("wanted SUCCESS, got %s", state_name(state));
	}
	if (strcmp(expect, "ANY") != 0 && strcmp(expect, protocol_name(got.mapping_protocol)) != 0) {
		plum_cleanup();
		return fail("wanted protocol %s, got %s", expect, protocol_name(got.mapping_protocol));
	}
	if (write_file(state_file, line) != 0) {
		plum_cleanup();
		return fail("cannot write %s", state_file);
	}

	if (strcmp(mode, "hold") == 0 || strcmp(mode, "restart-check") == 0) {
		const int restart = strcmp(mode, "restart-check") == 0;
		const long until = elapsed_ms() + arg_ms;
		plum_mapping_t first = got;
		while (elapsed_ms() < until && !file_exists(go_file)) {
			if (plum_query_mapping(id, &state, &got) != PLUM_ERR_SUCCESS) {
				plum_cleanup();
				return fail("mapping vanished while held");
			}
			/* While the router reboots the mapping may briefly fail. */
			if (!restart && state != PLUM_STATE_SUCCESS) {
				plum_cleanup();
				return fail("state %s while held", state_name(state));
			}
			print_events();
			sleep_ms(kPollMs);
		}
		if (restart) {
			if (!file_exists(go_file)) {
				plum_cleanup();
				return fail("no go file within %ld ms", arg_ms);
			}
			/* After the reboot: SUCCESS again, at the same place. */
			while (plum_query_mapping(id, &state, &got) == PLUM_ERR_SUCCESS &&
			       state != PLUM_STATE_SUCCESS && elapsed_ms() < until)
				sleep_ms(kPollMs);
			format_state(line, sizeof(line), state, &got);
			printf("after-restart %s\n", line);
			print_events();
			if (state != PLUM_STATE_SUCCESS) {
				plum_cleanup();
				return fail("not SUCCESS after the router restart");
			}
			if (strcmp(first.external_host, got.external_host) != 0) {
				plum_cleanup();
				return fail("external address changed: %s -> %s", first.external_host,
				            got.external_host);
			}
		}
		if (plum_destroy_mapping(id) != PLUM_ERR_SUCCESS) {
			plum_cleanup();
			return fail("plum_destroy_mapping");
		}
		if (wait_destroyed(id, elapsed_ms() + (mapping_ms ? mapping_ms : 10000) + kSlackMs) != 0) {
			plum_cleanup();
			return fail("not DESTROYED in time");
		}
		printf("state=DESTROYED elapsed_ms=%ld\n", elapsed_ms());
		if (plum_cleanup() != PLUM_ERR_SUCCESS)
			return fail("plum_cleanup");
	} else if (strcmp(mode, "cleanup") == 0) {
		/* Bounded: a script that never says go gets a cleanup after 60 s. */
		const long until = elapsed_ms() + 60000;
		while (go_file && !file_exists(go_file) && elapsed_ms() < until)
			sleep_ms(kPollMs);
		if (plum_cleanup() != PLUM_ERR_SUCCESS)
			return fail("plum_cleanup");
		printf("cleanup=ok elapsed_ms=%ld\n", elapsed_ms());
	} else {
		plum_cleanup();
		return usage(), 2;
	}
	print_events();
	pthread_mutex_lock(&g_lock);
	rc = g_destroyed_count;
	pthread_mutex_unlock(&g_lock);
	if (rc != 1)
		return fail("%d DESTROYED callbacks, wanted exactly 1", rc);
	printf("result=ok\n");
	return 0;
}
