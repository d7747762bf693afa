/*
 * The public structs' layout, field by field: plum_config_t and
 * plum_mapping_t are libplum's (the generation with timeouts in the config
 * and mapping_protocol in the mapping), and plum_config_ext_t is plum's own
 * ABI from ABI version 1 on. A difference fails the build (_Static_assert);
 * run, the test prints the table it checked.
 *
 * Each row gives the value for 8-byte pointers (LP64: Linux, macOS, BSDs,
 * Android 64; LLP64: Windows 64) and for 4-byte pointers (ILP32: 32-bit
 * Linux, Android and Windows). An enum is an int on all of them.
 *
 * Never edit a row of plum_config_t or plum_mapping_t: those are libplum's.
 * A row of plum_config_ext_t changes only by appending a field (and its
 * size), with the minor ABI version bumped in meson.build.
 */
#include "plum/plum.h"

#include <stddef.h>

#define LAYOUT(X)                                                                                  \
	X(sizeof(plum_log_level_t), 4, 4)                                                              \
	X(sizeof(plum_ip_protocol_t), 4, 4)                                                            \
	X(sizeof(plum_mapping_protocol_t), 4, 4)                                                       \
	X(sizeof(plum_state_t), 4, 4)                                                                  \
                                                                                                   \
	X(sizeof(plum_config_t), 40, 24)                                                               \
	X(offsetof(plum_config_t, log_level), 0, 0)                                                    \
	X(offsetof(plum_config_t, log_callback), 8, 4)                                                 \
	X(offsetof(plum_config_t, dummytls_domain), 16, 8)                                             \
	X(offsetof(plum_config_t, discover_timeout), 24, 12)                                           \
	X(offsetof(plum_config_t, mapping_timeout), 28, 16)                                            \
	X(offsetof(plum_config_t, recheck_period), 32, 20)                                             \
                                                                                                   \
	X(sizeof(plum_mapping_t), 280, 272)                                                            \
	X(offsetof(plum_mapping_t, protocol), 0, 0)                                                    \
	X(offsetof(plum_mapping_t, mapping_protocol), 4, 4)                                            \
	X(offsetof(plum_mapping_t, internal_port), 8, 8)                                               \
	X(offsetof(plum_mapping_t, external_port), 10, 10)                                             \
	X(offsetof(plum_mapping_t, external_host), 12, 12)                                             \
	X(sizeof(((plum_mapping_t *)0)->external_host), 256, 256)                                      \
	X(offsetof(plum_mapping_t, user_ptr), 272, 268)                                                \
                                                                                                   \
	X(sizeof(plum_config_ext_t), 72, 44)                                                           \
	X(offsetof(plum_config_ext_t, size), 0, 0)                                                     \
	X(offsetof(plum_config_ext_t, protocols), 8, 4)                                                \
	X(offsetof(plum_config_ext_t, families), 12, 8)                                                \
	X(offsetof(plum_config_ext_t, gateway_address), 16, 12)                                        \
	X(offsetof(plum_config_ext_t, local_address), 24, 16)                                          \
	X(offsetof(plum_config_ext_t, gateway_address6), 32, 20)                                       \
	X(offsetof(plum_config_ext_t, local_address6), 40, 24)                                         \
	X(offsetof(plum_config_ext_t, ssdp_address), 48, 28)                                           \
	X(offsetof(plum_config_ext_t, pcp_port), 56, 32)                                               \
	X(offsetof(plum_config_ext_t, announce_port), 58, 34)                                          \
	X(offsetof(plum_config_ext_t, ssdp_port), 60, 36)                                              \
	X(offsetof(plum_config_ext_t, lifetime), 64, 40)

#define EXPECTED(p64, p32) (sizeof(void *) == 8 ? (size_t)(p64) : (size_t)(p32))

_Static_assert(sizeof(void *) == 8 || sizeof(void *) == 4, "a pointer size with no table");

#define STATIC_CHECK(expr, p64, p32)                                                               \
	_Static_assert((expr) == EXPECTED(p64, p32), #expr " is not the ABI's");
LAYOUT(STATIC_CHECK)

/* Built with ABI_LAYOUT_STATIC_ONLY, the file is only its static checks and
 * needs no C library: abi_targets.sh compiles it that way for other
 * targets (32-bit, ARM, Windows) with clang and no sysroot. */
#ifndef ABI_LAYOUT_STATIC_ONLY
#include <stdio.h>

int main(void) {
	int failures = 0;
	printf("%-56s %8s %8s\n", "", "expected", "actual");
#define ROW(expr, p64, p32)                                                                        \
	do {                                                                                           \
		const size_t want = EXPECTED(p64, p32), got = (expr);                                      \
		printf("%-56s %8zu %8zu%s\n", #expr, want, got, want == got ? "" : "  DIFFERS");          \
		failures += want != got;                                                                   \
	} while (0);
	LAYOUT(ROW)
	printf("%d-bit pointers: %s\n", (int)(8 * sizeof(void *)), failures ? "layout differs" : "ok");
	return failures ? 1 : 0;
}
#endif
