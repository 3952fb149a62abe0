/* main.c - sealmailctl: the administrator's command line.
 * Parses global options, loads the configuration and hands over to one
 * command file.  Exit status 0 on success, 1 on failure, 2 on misuse. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <sodium.h>

#include "build.h"
#include "config.h"
#include "ctl.h"
#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* The synopsis answers "sealmailctl COMMAND --help" before any config is
 * read, so help works on a host that is not set up yet. */
static const struct {
	const char *name;
	int (*fn)(struct ctl *);
	const char *help;
	const char *synopsis;
} commands[] = {
	{ "init", cmd_init, "create database, accounts, schema and keys",
	  "init [--db-admin-user USER] [--db-admin-password-file FILE]" },
	{ "migrate", cmd_migrate, "apply pending schema migrations",
	  "migrate [--status]" },
	{ "keygen", cmd_keygen, "create missing key files (a new escrow version)",
	  "keygen" },
	{ "reseal", cmd_reseal, "re-seal every data key to the current escrow key",
	  "reseal" },
	{ "lab", cmd_lab, "add, list and change labs and their senders",
	  "lab add NAME [--display TEXT] [--subject TEXT] [--contact TEXT]\n"
	  "            [--colour #RRGGBB] [--expiry-days N] [--sasl LOGIN]\n"
	  "            [--network CIDR] [--sender ADDR] [--domain DOMAIN] ...\n"
	  "       sealmailctl lab list\n"
	  "       sealmailctl lab sender add|del NAME sasl|network|address|domain VALUE" },
	{ "recipients", cmd_recipients, "import, list and delete a lab's recipients",
	  "recipients import --lab NAME [--dry-run] FILE.csv\n"
	  "       sealmailctl recipients list --lab NAME [--json]\n"
	  "       sealmailctl recipients delete --lab NAME ADDRESS" },
	{ "events", cmd_events, "search the audit trail (text, JSON or CSV)",
	  "events [--lab NAME] [--message ID] [--reference REF] [--recipient ADDR]\n"
	  "            [--since DATE] [--until DATE] [--limit N] [--page N] [--json|--csv]" },
	{ "status", cmd_status, "one message: deliveries, opens and events",
	  "status MESSAGE_ID [--json]" },
	{ "retract", cmd_retract, "retract a message, a reference or one delivery",
	  "retract --message ID | --reference REF --lab NAME | --delivery ID" },
	{ "expire", cmd_expire, "change when a message expires",
	  "expire --message ID [--lab NAME] 7d|2w|6m|1y|YYYY-MM-DD" },
	{ "unlock", cmd_unlock, "unlock a delivery locked by failed verifications",
	  "unlock --delivery ID" },
	{ "purge", cmd_purge, "crypto-shred expired and retracted messages",
	  "purge [--dry-run] [--quiet]" },
	{ "audit", cmd_audit, "seal and verify the tamper-evident audit trail",
	  "audit seal [--grace SECONDS]\n"
	  "       sealmailctl audit verify [--anchor SEQ:HEX]" },
	{ "user", cmd_user, "add, reset and disable lab users (admin pages)",
	  "user add --lab NAME --role viewer|sender-admin [--qr] LOGIN\n"
	  "       sealmailctl user reset|disable [--qr] LOGIN" },
	{ "apikey", cmd_apikey, "create, list and revoke lab API keys",
	  "apikey create --lab NAME [--label TEXT]\n"
	  "       sealmailctl apikey list [--lab NAME] [--json]\n"
	  "       sealmailctl apikey revoke PREFIX" },
};

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: sealmailctl [-c CONF] [--json] COMMAND [ARGS]\n\n"
	    "  -c, --config FILE  configuration (default %s/sealmail/sealmail.conf)\n"
	    "      --json         machine-readable output\n"
	    "  -V, --version      print the version\n"
	    "  -h, --help         this help\n\ncommands:\n", SYSCONFDIR);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nSee sealmailctl(8).\n");
}

int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sealmailctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
ctl_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = SYSCONFDIR "/sealmail/sealmail.conf";
	struct ctl c;
	struct sm_err err;
	size_t i;
	int ch, rc = 2;

	memset(&c, 0, sizeof(c));
	/* '+' stops at the command, so its own options are left to it. */
	while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sealmailctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "sealmailctl: unknown command \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (optind + 1 < argc && (strcmp(argv[optind + 1], "-h") == 0 ||
	    strcmp(argv[optind + 1], "--help") == 0)) {
		printf("usage: sealmailctl %s\n\n%s; see sealmailctl(8).\n",
		    commands[i].synopsis, commands[i].help);
		return 0;
	}
	if (sodium_init() < 0)
		return ctl_fail("libsodium cannot initialise");
	log_open("sealmailctl", 1, LOG_USER);
	if (config_load(&c.cf, conf, &err) == -1)
		return ctl_fail("%s", err.msg);
	if (mysql_library_init(0, NULL, NULL) != 0) {
		config_free(c.cf);
		return ctl_fail("cannot initialise the MariaDB client library");
	}
	c.argc = argc - optind;
	c.argv = argv + optind;
	optind = 0;	/* glibc: re-initialise getopt for the command's own options */
	rc = commands[i].fn(&c);
	config_free(c.cf);
	mysql_library_end();
	return rc;
}
