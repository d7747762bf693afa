/*
 * plum_config_t's IPv6 fields (families, gateway_address6, local_address6)
 * through the C API and the shared library: they come after every libplum
 * field and after plum's earlier extensions, a zeroed config means IPv4 only,
 * and with IPv6 alone pinned to ::1 plum_get_local_address reports ::1.
 * Nothing is sent: no mapping is made.
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
	/* Layout: the new fields last, in this order. */
	EXPECT(offsetof(plum_config_t, families) > offsetof(plum_config_t, protocols));
	EXPECT(offsetof(plum_config_t, gateway_address6) > offsetof(plum_config_t, families));
	EXPECT(offsetof(plum_config_t, local_address6) > offsetof(plum_config_t, gateway_address6));
	EXPECT(offsetof(plum_config_t, local_address6) + sizeof(const char *) <= sizeof(plum_config_t));
	EXPECT(PLUM_FAMILY_IPV4 == 1u && PLUM_FAMILY_IPV6 == 2u);

	/* A zeroed config (libplum style): IPv4 only, with a pinned IPv4 address. */
	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_NONE;
	config.gateway_address = "127.0.0.1";
	config.local_address = "127.0.0.1";
	EXPECT(config.families == 0);
	EXPECT(plum_init(&config) == PLUM_ERR_SUCCESS);
	char buffer[PLUM_MAX_ADDRESS_LEN];
	EXPECT(plum_get_local_address(buffer, sizeof(buffer)) > 0);
	EXPECT(strcmp(buffer, "127.0.0.1") == 0);
	EXPECT(plum_cleanup() == PLUM_ERR_SUCCESS);

	/* IPv6 alone, pinned: the local address is the IPv6 one. */
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_NONE;
	config.families = PLUM_FAMILY_IPV6;
	config.gateway_address6 = "::1";
	config.local_address6 = "::1";
	EXPECT(plum_init(&config) == PLUM_ERR_SUCCESS);
	memset(buffer, 0, sizeof(buffer));
	EXPECT(plum_get_local_address(buffer, sizeof(buffer)) > 0);
	EXPECT(strcmp(buffer, "::1") == 0);
	EXPECT(plum_cleanup() == PLUM_ERR_SUCCESS);

	/* A link-local IPv6 gateway without its interface is refused. */
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_NONE;
	config.families = PLUM_FAMILY_IPV6;
	config.gateway_address6 = "fe80::1";
	config.local_address6 = "::1";
	EXPECT(plum_init(&config) == PLUM_ERR_SUCCESS);
	EXPECT(plum_get_local_address(buffer, sizeof(buffer)) < 0);
	EXPECT(plum_cleanup() == PLUM_ERR_SUCCESS);

	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
