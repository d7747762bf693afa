/*
 * plum: port mapping with PCP, NAT-PMP and UPnP-IGD.
 *
 * The C API. It declares the same names, values and structure layouts as
 * libplum's header, so a program written for libplum compiles unchanged with
 * #include "plum/plum.h" and links with -lplum. plum's own configuration
 * fields come at the END of plum_config_t: a zeroed config means defaults.
 */
#ifndef PLUM_H
#define PLUM_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PLUM_STATIC
#if defined(_WIN32)
#ifdef PLUM_EXPORTS
#define PLUM_EXPORT __declspec(dllexport)
#else
#define PLUM_EXPORT __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define PLUM_EXPORT __attribute__((visibility("default")))
#endif
#endif
#ifndef PLUM_EXPORT
#define PLUM_EXPORT
#endif

#define PLUM_ERR_SUCCESS 0
#define PLUM_ERR_INVALID -1   /* invalid argument */
#define PLUM_ERR_FAILED -2    /* runtime error */
#define PLUM_ERR_NOT_AVAIL -3 /* element not available */

typedef enum {
	PLUM_LOG_LEVEL_VERBOSE = 0,
	PLUM_LOG_LEVEL_DEBUG = 1,
	PLUM_LOG_LEVEL_INFO = 2,
	PLUM_LOG_LEVEL_WARN = 3,
	PLUM_LOG_LEVEL_ERROR = 4,
	PLUM_LOG_LEVEL_FATAL = 5,
	PLUM_LOG_LEVEL_NONE = 6
} plum_log_level_t;

typedef void (*plum_log_callback_t)(plum_log_level_t level, const char *message);

/* Bits of plum_config_t.protocols: which protocols plum may use. */
#define PLUM_PROTOCOL_FLAG_PCP 0x1u
#define PLUM_PROTOCOL_FLAG_NATPMP 0x2u
#define PLUM_PROTOCOL_FLAG_UPNP 0x4u
#define PLUM_PROTOCOL_FLAG_ALL 0x7u

/* Bits of plum_config_t.families: which address families each mapping is
 * made in. 0 means IPv4 only, as libplum. IPv6 opens a pinhole in the
 * router's firewall for our own IPv6 address, with PCP. */
#define PLUM_FAMILY_IPV4 0x1u
#define PLUM_FAMILY_IPV6 0x2u

typedef struct {
	plum_log_level_t log_level;
	plum_log_callback_t log_callback; /* NULL means stdout */
	const char *dummytls_domain;      /* NULL means disabled */
	int discover_timeout;             /* ms, 0 means default (10000) */
	int mapping_timeout;              /* ms, 0 means default (10000) */
	int recheck_period;               /* ms, 0 means default (300000) */

	/* plum extensions: keep them last so a zeroed config means defaults. */
	const char *gateway_address; /* IPv4 gateway to use, NULL: the default route's */
	const char *local_address;   /* local IPv4 address to map to, NULL: discovered */
	uint16_t pcp_port;           /* PCP/NAT-PMP server port, 0: 5351 */
	uint16_t announce_port;      /* PCP ANNOUNCE/NAT-PMP notice port, 0: 5350 */
	const char *ssdp_address;    /* SSDP target, NULL: 239.255.255.250 + gateway */
	uint16_t ssdp_port;          /* SSDP port, 0: 1900 */
	unsigned int protocols;      /* PLUM_PROTOCOL_FLAG_* mask, 0: all */
	unsigned int families;       /* PLUM_FAMILY_* mask, 0: IPv4 only */
	/* The IPv6 PCP server, e.g. "fe80::1%eth0"; NULL: the default route's. */
	const char *gateway_address6;
	/* Our IPv6 address to open pinholes to; NULL: discovered. */
	const char *local_address6;
} plum_config_t;

PLUM_EXPORT int plum_init(const plum_config_t *config);
PLUM_EXPORT int plum_cleanup(void);

typedef enum {
	PLUM_IP_PROTOCOL_TCP = 0,
	PLUM_IP_PROTOCOL_UDP = 1
} plum_ip_protocol_t;

typedef enum {
	PLUM_STATE_DESTROYED = 0,
	PLUM_STATE_PENDING = 1,
	PLUM_STATE_SUCCESS = 2,
	PLUM_STATE_FAILURE = 3,
	PLUM_STATE_DESTROYING = 4
} plum_state_t;

typedef enum {
	PLUM_MAPPING_PROTOCOL_UNKNOWN = 0,
	PLUM_MAPPING_PROTOCOL_PCP = 1,
	PLUM_MAPPING_PROTOCOL_NATPMP = 2,
	PLUM_MAPPING_PROTOCOL_UPNP = 3,
	PLUM_MAPPING_PROTOCOL_DIRECT = 4
} plum_mapping_protocol_t;

#define PLUM_MAX_HOST_LEN 256
#define PLUM_MAX_ADDRESS_LEN 64

typedef struct {
	plum_ip_protocol_t protocol;
	plum_mapping_protocol_t mapping_protocol;
	uint16_t internal_port;
	uint16_t external_port;
	char external_host[PLUM_MAX_HOST_LEN];
	void *user_ptr;
} plum_mapping_t;

/* Called on every state change after PENDING: SUCCESS, FAILURE, DESTROYED. */
typedef void (*plum_mapping_callback_t)(int id, plum_state_t state, const plum_mapping_t *mapping);

PLUM_EXPORT int plum_create_mapping(const plum_mapping_t *mapping, plum_mapping_callback_t callback);
PLUM_EXPORT int plum_query_mapping(int id, plum_state_t *state, plum_mapping_t *mapping);
PLUM_EXPORT int plum_destroy_mapping(int id);

PLUM_EXPORT int plum_get_local_address(char *buffer, size_t size);

typedef enum {
	PLUM_DUMMYTLS_PEM_CERT = 0,
	PLUM_DUMMYTLS_PEM_CHAIN = 1,
	PLUM_DUMMYTLS_PEM_FULLCHAIN = 2,
	PLUM_DUMMYTLS_PEM_PRIVKEY = 3
} plum_dummytls_cert_type_t;

/* plum fetches nothing from the internet: always PLUM_ERR_NOT_AVAIL. */
PLUM_EXPORT int plum_get_dummytls_certificate(plum_dummytls_cert_type_t type, char *buffer,
                                              size_t size);
PLUM_EXPORT int plum_get_dummytls_host(const char *address, char *buffer, size_t size);

#ifdef __cplusplus
}
#endif

#endif
