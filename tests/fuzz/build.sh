#!/bin/sh
# build.sh BUILDDIR - builds the libFuzzer targets with clang, from the
# library sources, into BUILDDIR (configured already: it supplies build.h
# and lib/migrations.c).  Not part of make check: fuzzing runs for as long
# as one lets it.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: tests/fuzz/build.sh BUILDDIR}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE"
inc="-I$src/lib -I$out -I/usr/include/ClearSilver $(pkg-config --cflags gmime-3.0 jansson libsodium libmariadb)"
libs="$(pkg-config --libs gmime-3.0 jansson libsodium libmariadb liboath libqrencode) -lcsv -lneo_cgi -lneo_cs -lneo_utl -lz -lssl -lcrypto -lpthread"
for t in csv; do
	# shellcheck disable=SC2086
	clang $flags $inc -DSYSCONFDIR='"/etc"' -DPKGDATADIR='"/usr/share/sealmail"' \
		"$src/tests/fuzz/fuzz_$t.c" "$src"/lib/*.c "$out/lib/migrations.c" \
		$libs -o "$out/fuzz_$t"
	echo "built $out/fuzz_$t"
done
