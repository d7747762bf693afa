/*
 * A MinGW consumer of an installed plum (tests/embed/mingw_consumer.sh): the
 * C API through the installed header and libplum.dll, with the gateway and
 * local address pinned to loopback, so nothing leaves the machine. No
 * mapping: plum_init, the local address it reports, plum_cleanup.
 */
#include <plum/plum.h>

#include <stdio.h>
#include <string.h>

int main(void) {
	plum_config_t config;
	memset(&config, 0, sizeof(config));
	config.log_level = PLUM_LOG_LEVEL_WARN;
	plum_config_ext_t ext = PLUM_CONFIG_EXT_INIT;
	ext.gateway_address = "127.0.0.1";
	ext.local_address = "127.0.0.1";
	if (plum_init_ext(&config, &ext) != PLUM_ERR_SUCCESS) {
		fprintf(stderr, "consumer: plum_init failed\n");
		return 1;
	}
	char local[PLUM_MAX_ADDRESS_LEN];
	const int n = plum_get_local_address(local, sizeof(local));
	plum_cleanup();
	if (n <= 0 || strcmp(local, "127.0.0.1") != 0) {
		fprintf(stderr, "consumer: local address is not the pinned 127.0.0.1\n");
		return 1;
	}
	printf("consumer: ok\n");
	return 0;
}
