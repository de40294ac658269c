/*
 * arctool_keys.h - arctool's key and configuration subcommands, each
 * called by arctool's main() with argv[0] the subcommand's name.
 */
#ifndef ARCTOOL_KEYS_H
#define ARCTOOL_KEYS_H

int	 arctool_keygen(int argc, char **argv);		/* arctool_keys.c */
int	 arctool_testkey(int argc, char **argv);	/* arctool_keys.c */
int	 arctool_check_config(int argc, char **argv);	/* arctool_check.c */

#endif
