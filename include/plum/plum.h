/*
 * plum: port mapping with PCP, NAT-PMP and UPnP-IGD.
 *
 * The C API. It declares the same names, values and structure layouts as
 * libplum's header (the generation with timeouts in plum_config_t and
 * mapping_protocol in plum_mapping_t), so a program written for libplum
 * compiles unchanged with #include "plum/plum.h" and links with -lplum.
 *
 * plum_config_t and plum_mapping_t are libplum's, byte for byte: callers
 * often fill them field by field in uninitialized memory, so they never
 * grow. plum's own settings (a pinned gateway, ports, the protocols and
 * address families to use) live in plum_config_ext_t, passed to
 * plum_init_ext(). tests/api/abi_layout.c pins every size and offset.
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

typedef struct {
	plum_log_level_t log_level;
	plum_log_callback_t log_callback; /* NULL means stdout */
	const char *dummytls_domain;      /* NULL means disabled */
	int discover_timeout;             /* ms, 0 means default (10000) */
	int mapping_timeout;              /* ms, 0 means default (10000) */
	int recheck_period;               /* ms, 0 means default (300000) */
} plum_config_t;

/* Bits of plum_config_ext_t.protocols: which protocols plum may use. */
#define PLUM_PROTOCOL_FLAG_PCP 0x1u
#define PLUM_PROTOCOL_FLAG_NATPMP 0x2u
#define PLUM_PROTOCOL_FLAG_UPNP 0x4u
#define PLUM_PROTOCOL_FLAG_ALL 0x7u

/* Bits of plum_config_ext_t.families: which address families each mapping
 * is made in. 0 means IPv4 only, as libplum. IPv6 opens a pinhole in the
 * router's firewall for our own IPv6 address, with PCP. */
#define PLUM_FAMILY_IPV4 0x1u
#define PLUM_FAMILY_IPV6 0x2u

/*
 * plum's own settings, beyond libplum's. Zero (or NULL) in any field means
 * the default. Start from PLUM_CONFIG_EXT_INIT, which sets `size` and zeroes
 * the rest:
 *
 *     plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
 *     ext.gateway_address = "192.168.1.1";
 *     plum_init_ext(&config, &ext);
 *
 * `size` tells plum which version of this struct the caller was built with:
 * later versions only append fields, and plum reads none past `size`.
 * Strings are copied by plum_init_ext(); they need not outlive the call.
 */
typedef struct {
	size_t size;            /* sizeof(plum_config_ext_t) */
	unsigned int protocols; /* PLUM_PROTOCOL_FLAG_* mask, 0: all */
	unsigned int families;  /* PLUM_FAMILY_* mask, 0: IPv4 only */
	const char *gateway_address;  /* IPv4 gateway, NULL: the default route's */
	const char *local_address;    /* local IPv4 address to map to, NULL: discovered */
	const char *gateway_address6; /* IPv6 PCP server, e.g. "fe80::1%eth0"; NULL: the default route's */
	const char *local_address6;   /* our IPv6 address to open pinholes to; NULL: discovered */
	const char *ssdp_address;     /* SSDP target, NULL: 239.255.255.250 and the gateway */
	uint16_t pcp_port;            /* PCP/NAT-PMP server port, 0: 5351 */
	uint16_t announce_port;       /* PCP ANNOUNCE/NAT-PMP notice port, 0: 5350 */
	uint16_t ssdp_port;           /* SSDP port, 0: 1900 */
	unsigned int lifetime;        /* s asked of the router per mapping, 0: 7200 */
} plum_config_ext_t;

#define PLUM_CONFIG_EXT_INIT {sizeof(plum_config_ext_t), 0, 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0}

/* libplum's init; config may be NULL (all defaults). */
PLUM_EXPORT int plum_init(const plum_config_t *config);
/* plum_init with plum's own settings; either pointer may be NULL. Fails
 * with PLUM_ERR_INVALID when ext->size is not one plum knows. */
PLUM_EXPORT int plum_init_ext(const plum_config_t *config, const plum_config_ext_t *ext);
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
