/*
 * arctool_check.c - arctool check-config: is this configuration usable
 * by the user who will run it?
 *
 *   arctool check-config --config FILE [--user USER[:GROUP]]
 *
 * Contract:
 *  - The configuration is loaded and the adapter built from it (every
 *    key, key table and trust anchor opened) as USER: as root in a child
 *    that became USER (arc_check.h); without --user as whoever runs it,
 *    and the output says which user that was.
 *  - Exit 0 and "FILE: OK (checked as user U (uid N, gid G))" on stdout
 *    when usable; else 78 (EX_CONFIG) and "file:line: reason" on stderr.
 *    64 for usage errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "arc_check.h"
#include "arctool_keys.h"

int
arctool_check_config(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*conf = NULL, *user = NULL;
	char		 msg[1024], who[256];
	int		 c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:u:", lo, NULL)) != -1) {
		if (c == 'c')
			conf = optarg;
		else if (c == 'u')
			user = optarg;
		else
			conf = NULL, optind = argc + 1;
	}
	if (conf == NULL || optind != argc) {
		fprintf(stderr, "usage: arctool check-config --config FILE "
		    "[--user USER[:GROUP]]\n");
		return EX_USAGE;
	}
	if (arc_check_config(conf, user, msg, sizeof(msg), who,
	    sizeof(who)) == 0) {
		printf("%s (checked as %s)\n", msg, who);
		if (user == NULL)
			printf("note: give --user with the user the MTA runs "
			    "the adapter as: what matters is what that user "
			    "can read\n");
		return 0;
	}
	fprintf(stderr, "arctool: %s (checked as %s)\n", msg, who);
	return EX_CONFIG;
}
