#!/usr/bin/env bash
# plum embedded the ways an application embeds a library, each consumer
# (tests/embed/consumer.c) linked dynamically and statically, then run
# against the loopback mock router:
#
#   installed   `meson install --destdir` of this build, the staged prefix
#               moved elsewhere (everything must be relocatable), then
#               pkg-config, CMake find_package(plum) and find_package(LibPlum)
#               (+ the examples' own CMakeLists.txt)
#   subproject  a meson superproject whose subprojects/plum links to this
#               source tree: dependency('plum', fallback: ...)
#
# Static consumers may need only the C and C++ runtimes (no libplum.so, no
# pugixml/spdlog/fmt); dynamic ones must need libplum.so.
#
# usage: embed_check.sh installed|subproject SOURCE_ROOT BUILD_ROOT MOCK_ROUTER
# Exit: 0 ok, 1 failure, 77 a tool is missing (skipped).
set -euo pipefail
mode=$1 src=$2 build=$3 mock=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

need() {
	command -v "$1" >/dev/null || {
		echo "SKIP: $1 is not installed"
		exit 77
	}
}
need readelf
need timeout
need cc
case "$mode" in
installed)
	if [ "${PLUM_SANITIZE:-none}" != none ]; then
		echo "SKIP: this build's library needs the $PLUM_SANITIZE sanitizer runtimes"
		exit 77
	fi
	need pkg-config
	need cmake
	need c++
	;;
subproject)
	need meson
	need ninja
	;;
*)
	echo "unknown mode $mode"
	exit 2
	;;
esac

work=$(mktemp -d /tmp/plum-embed.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
say() { echo "[$mode] $*"; }
ok() { say "ok   - $*"; }
bad() {
	say "FAIL - $*"
	fails=$((fails + 1))
}

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }

# check_linkage static|dynamic BINARY
check_linkage() {
	local kind=$1 bin=$2 extra
	if [ ! -x "$bin" ]; then
		bad "$bin was not built"
		return
	fi
	if [ "$kind" = static ]; then
		extra=$(needed "$bin" | grep -Ev '^(libc\.so\.6|libstdc\+\+\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|ld-linux[-a-z0-9_.]*\.so\.[0-9]+)$' || true)
		if [ -z "$extra" ]; then
			ok "$(basename "$bin") needs only the C/C++ runtimes: $(needed "$bin" | tr '\n' ' ')"
		else
			bad "$(basename "$bin") (static) needs $(echo "$extra" | tr '\n' ' ')"
		fi
	elif needed "$bin" | grep -Eq '^libplum\.so\.[0-9]+$'; then
		ok "$(basename "$bin") needs libplum.so"
	else
		bad "$(basename "$bin") (dynamic) does not need libplum.so: $(needed "$bin" | tr '\n' ' ')"
	fi
}

# run_consumer BINARY: runs it against a fresh mock router (its first line
# says `pcp_port=N ssdp_port=M`; closing its stdin makes it print how many
# mappings it still holds and exit), which must be left with none.
run_consumer() {
	local bin=$1 name port summary rc=0 deadline hold
	name=$(basename "$bin")
	[ -x "$bin" ] || return 0 # reported by check_linkage
	rm -f "$work/mock.in" "$work/mock.out"
	mkfifo "$work/mock.in"
	timeout 120 "$mock" <"$work/mock.in" >"$work/mock.out" 2>"$work/mock.err" &
	local mock_pid=$!
	exec {hold}>"$work/mock.in"
	deadline=$((SECONDS + 10))
	until grep -q '^pcp_port=' "$work/mock.out" || [ $SECONDS -ge $deadline ]; do
		sleep 0.05
	done
	port=$(sed -n 's/^pcp_port=\([0-9]*\).*/\1/p' "$work/mock.out")
	if [ -z "$port" ]; then
		exec {hold}>&-
		wait "$mock_pid" || true
		bad "$name: the mock router did not start: $(cat "$work/mock.err")"
		return
	fi
	timeout 60 "$bin" "$port" >"$work/run.log" 2>&1 || rc=$?
	exec {hold}>&-
	wait "$mock_pid" || true
	summary=$(sed -n 's/^mock router: //p' "$work/mock.out")
	if [ "$rc" = 0 ] && [ "$summary" = "0 PCP/NAT-PMP and 0 UPnP mappings left" ]; then
		ok "$name ran: $(grep -E '^consumer: mapped' "$work/run.log" || true)"
	else
		sed 's/^/    /' "$work/run.log"
		bad "$name against the mock router: exit $rc, router: ${summary:-no summary}"
	fi
}

# build NAME COMMAND...: runs a build step (at most BUILD_TIMEOUT s, 300 by
# default), shows its output on failure
build() {
	local name=$1
	shift
	if timeout "${BUILD_TIMEOUT:-300}" "$@" >"$work/$name.log" 2>&1; then
		return 0
	fi
	tail -n 40 "$work/$name.log" | sed 's/^/    /'
	bad "$name"
	return 1
}

if [ "$mode" = installed ]; then
	# 1. Install into a staging directory, then move the prefix away: every
	# path in plum.pc and the CMake package must follow it.
	build "meson install" meson install -C "$build" --no-rebuild --skip-subprojects \
		--destdir "$work/stage" || exit 1
	pc=$(find "$work/stage" -path '*/pkgconfig/plum.pc' | head -n 1)
	[ -n "$pc" ] || {
		bad "no plum.pc installed"
		exit 1
	}
	prefix=$(sed -n 's/^prefix=//p' "$pc")
	version=$(sed -n 's/^Version: //p' "$pc")
	staged_libdir=$(dirname "$(dirname "$pc")")
	rel_libdir=${staged_libdir#"$work/stage$prefix/"}
	P=$work/moved
	mv "$work/stage$prefix" "$P"
	L=$P/$rel_libdir
	say "installed plum $version for prefix $prefix; moved to $P (libdir $rel_libdir)"
	for f in include/plum/plum.h include/plum/plum.hpp include/plum/result.hpp \
		"$rel_libdir/libplum.a" "$rel_libdir/cmake/plum/plumConfig.cmake" \
		"$rel_libdir/cmake/plum/plumConfigVersion.cmake" \
		"$rel_libdir/cmake/LibPlum/LibPlumConfig.cmake" \
		"$rel_libdir/cmake/LibPlum/LibPlumConfigVersion.cmake"; do
		[ -e "$P/$f" ] || bad "not installed: $f"
	done
	if grep -rlF "$prefix" "$L/cmake" >/dev/null; then
		bad "the CMake package names the install prefix $prefix: $(grep -rlF "$prefix" "$L/cmake" | tr '\n' ' ')"
	else
		ok "the CMake package holds no absolute install path"
	fi

	# 2. pkg-config, with the prefix redefined as the moved one.
	pc_cmd=(env PKG_CONFIG_LIBDIR="$L/pkgconfig" PKG_CONFIG_PATH= pkg-config
		--define-variable=prefix="$P")
	cflags=$("${pc_cmd[@]}" --cflags plum)
	libs=$("${pc_cmd[@]}" --libs plum)
	static_libs=$("${pc_cmd[@]}" --static --libs plum)
	# libplum.a rather than libplum.so: the usual -Bstatic around -lplum.
	static_libs=${static_libs/-lplum/-Wl,-Bstatic -lplum -Wl,-Bdynamic}
	say "pkg-config: cflags '$cflags' libs '$libs' static '$static_libs'"
	case "$cflags $libs" in
	*"$P"*) ok "pkg-config points into the moved prefix" ;;
	*) bad "pkg-config does not point into $P" ;;
	esac
	# shellcheck disable=SC2086 # pkg-config output is a list of words
	build "pkg-config dynamic" cc -std=c11 $cflags "$here/consumer.c" -o "$work/pc_shared" \
		$libs -Wl,-rpath,"$L" || true
	# shellcheck disable=SC2086
	build "pkg-config static" cc -std=c11 $cflags "$here/consumer.c" -o "$work/pc_static" \
		$static_libs || true
	# The C++ API from the installed headers alone (compile and link).
	# shellcheck disable=SC2086
	build "pkg-config C++ example" c++ -std=c++20 $cflags "$src/examples/cpp/example.cpp" \
		-o "$work/pc_cpp_example" $libs -Wl,-rpath,"$L" && ok "the C++ example builds with pkg-config"
	check_linkage dynamic "$work/pc_shared"
	check_linkage static "$work/pc_static"
	run_consumer "$work/pc_shared"
	run_consumer "$work/pc_static"

	# 3. CMake: find_package(plum), and find_package(LibPlum) as a libplum
	# project says it.
	generator=()
	command -v ninja >/dev/null && generator=(-G Ninja)
	for package in plum LibPlum; do
		b=$work/cmake-$package
		if build "cmake configure ($package)" cmake "${generator[@]}" -S "$here/cmake_consumer" \
			-B "$b" -DPLUM_PACKAGE="$package" -DEXPECT_PREFIX="$P" -DCMAKE_PREFIX_PATH="$P" \
			-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF &&
			build "cmake build ($package)" cmake --build "$b" -j 2; then
			ok "find_package($package): $(sed -n "s/^-- \($package .* found in .*\)/\1/p" "$work/cmake configure ($package).log")"
		fi
		check_linkage dynamic "$b/consumer_shared"
		check_linkage static "$b/consumer_static"
		run_consumer "$b/consumer_shared"
		run_consumer "$b/consumer_static"
	done
	if build "cmake version files" cmake -DDIR="$L/cmake" -DVERSION="$version" \
		-P "$here/cmake_consumer/versions.cmake"; then
		ok "version files: $(grep -c -- '->' "$work/cmake version files.log") requests answered as expected"
	fi

	# 4. The examples build on their own against the installed package.
	for example in c cpp; do
		b=$work/example-$example
		static=OFF
		[ "$example" = c ] && static=ON
		if build "example $example (cmake)" cmake "${generator[@]}" -S "$src/examples/$example" \
			-B "$b" -DCMAKE_PREFIX_PATH="$P" -DPLUM_STATIC=$static &&
			build "example $example (build)" cmake --build "$b" -j 2; then
			ok "examples/$example builds with CMake (static=$static)"
		fi
	done
fi

if [ "$mode" = subproject ]; then
	consumer=$work/consumer
	mkdir -p "$consumer/subprojects"
	cp "$here/meson_consumer/meson.build" "$here/consumer.c" "$consumer/"
	ln -s "$src" "$consumer/subprojects/plum"
	# Unoptimised (fastest to compile), two jobs; the fallback is forced so
	# that a plum installed on the machine is not used. No -Dplum:tests=false
	# and the like: as a subproject plum builds its library only, by itself.
	b=$work/build
	build "meson setup" meson setup "$b" "$consumer" --force-fallback-for=plum \
		-Dbuildtype=plain || exit 1
	# The one long step: ~1.5 min on two idle cores, more on a loaded machine.
	BUILD_TIMEOUT=480 build "ninja" ninja -C "$b" -j 2 || exit 1
	ok "built as a subproject"
	targets=$(meson introspect --targets "$b")
	extra=""
	for t in plumc plum-example-c doctest_main replay_pcp mock_router; do
		grep -q "\"name\": \"$t\"" <<<"$targets" && extra+=" $t"
	done
	if [ -z "$extra" ]; then
		ok "no tools, tests, examples or fuzzers in the subproject build"
	else
		bad "the subproject build has our own targets:$extra"
	fi
	check_linkage dynamic "$b/consumer_shared"
	check_linkage static "$b/consumer_static"
	run_consumer "$b/consumer_shared"
	run_consumer "$b/consumer_static"
fi

if [ "$fails" != 0 ]; then
	say "$fails check(s) failed"
	exit 1
fi
say "all checks passed"
