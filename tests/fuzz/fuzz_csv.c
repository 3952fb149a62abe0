/* fuzz_csv.c - libFuzzer target for the recipients CSV importer, the same
 * parser the table-driven tests/unit/test_csv.c checks.  Feeds the input in
 * pieces whose sizes come from the input itself, and checks what every
 * run must keep: errors name a line, rows never outnumber lines, nothing
 * is read after a fatal error.  Build and run (clang):
 *   tests/fuzz/build.sh BUILDDIR && BUILDDIR/fuzz_csv -max_total_time=60 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipient_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rimport *ri = NULL;
	struct sm_err err;
	size_t off = 0, lines = 1, i, step;
	int stopped = 0;

	if (size < 1 || rimport_new(&ri, 1, &err) == -1)
		return 0;
	step = (size_t)data[0] % 64 + 1;	/* piece size, from the input */
	data++;
	size--;
	for (i = 0; i < size; i++)
		lines += data[i] == '\n' || data[i] == '\r';
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		if (rimport_feed(ri, data + off, n) == -1) {
			stopped = 1;
			break;
		}
		off += n;
	}
	if (stopped && rimport_feed(ri, "x", 1) != -1)
		abort();	/* read on after a fatal error */
	(void)rimport_finish(ri);
	if (rimport_rows(ri) > lines)
		abort();
	if (rimport_nkept(ri) > rimport_nerrors(ri))
		abort();
	for (i = 0; i < rimport_nkept(ri); i++)
		if (strncmp(rimport_error(ri, i), "line ", 5) != 0)
			abort();
	rimport_free(ri);
	return 0;
}
