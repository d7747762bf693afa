#!/bin/bash
# A program written for libplum, in the lab: tests/api/c_garbage in plum-lan,
# with libplum's structs in garbage memory and only libplum's fields set,
# plain plum_init (the lab's default gateway is its router). Every cycle must
# reach SUCCESS, then DESTROYED exactly once per mapping, and the router must
# hold no rule at the end.
#
# usage: garbage_check.sh LAB_SH C_GARBAGE SCENARIO [CYCLES]
set -uo pipefail
LAB=$1
CLIENT_BIN=$2
SCENARIO=$3
CYCLES=${4:-10}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lab_test_lib.sh"
lab_begin

WORK=$(mktemp -d /tmp/plum-lab-test.XXXXXX)
LAB_WORK=$WORK # lab_end removes it

EXPECT=$(expected_protocol) || exit 2

run_client garbage lab "$CYCLES" "$EXPECT"
check "$CYCLES cycles of init, map, destroy, cleanup with garbage in the structs" client_done garbage
check "no DNAT rule left at the end" wait_until 2000 no_dnat_at_all
lab_finish
