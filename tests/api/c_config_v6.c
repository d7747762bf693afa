/*
 * plum_config_ext_t's IPv6 fields (families, gateway_address6,
 * local_address6) through the C API and the shared library: a zeroed
 * extension means IPv4 only, and with IPv6 alone pinned to ::1
 * plum_get_local_address reports ::1. Nothing is sent: no mapping is made.
 */
#include "plum/plum.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define EXPECT(cond)                                                                               \
	do {                                                                                           \
		if (!(cond)) {                                                                             \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);                     \
			++failures;                                                                            \
		}                                                                                          \
	} while (0)

int main(void) {
	EXPECT(PLUM_FAMILY_IPV4 == 1u && PLUM_FAMILY_IPV6 == 2u);

	/* A zeroed extension: IPv4 only, with a pinned IPv4 address. */
	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_NONE;
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
	ext.gateway_address = "127.0.0.1";
	ext.local_address = "127.0.0.1";
	EXPECT(ext.families == 0);
	EXPECT(plum_init_ext(&config, &ext) == PLUM_ERR_SUCCESS);
	char buffer[PLUM_MAX_ADDRESS_LEN];
	EXPECT(plum_get_local_address(buffer, sizeof(buffer)) > 0);
	EXPECT(strcmp(buffer, "127.0.0.1") == 0);
	EXPECT(plum_cleanup() == PLUM_ERR_SUCCESS);

	/* IPv6 alone, pinned: the local address is the IPv6 one. */
	plum_config_ext_t v6 = PLUM_CONFIG_EXT_INIT;
	v6.families = PLUM_FAMILY_IPV6;
	v6.gateway_address6 = "::1";
	v6.local_address6 = "::1";
	EXPECT(plum_init_ext(&config, &v6) == PLUM_ERR_SUCCESS);
	memset(buffer, 0, sizeof(buffer));
	EXPECT(plum_get_local_address(buffer, sizeof(buffer)) > 0);
	EXPECT(strcmp(buffer, "::1") == 0);
	EXPECT(plum_cleanup() == PLUM_ERR_SUCCESS);

	/* A link-local IPv6 gateway without its interface is refused. */
	v6.gateway_address6 = "fe80::1";
	EXPECT(plum_init_ext(&config, &v6) == PLUM_ERR_SUCCESS);
	EXPECT(plum_get_local_address(buffer, sizeof(buffer)) < 0);
	EXPECT(plum_cleanup() == PLUM_ERR_SUCCESS);

	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
