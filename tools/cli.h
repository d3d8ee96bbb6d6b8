/* The sipcfg CLI's subcommands, one function each: argv[0] is the subcommand's
 * name; they return the process exit status (0 ok, 1 failure, 2 usage). */
#ifndef SIPCFG_CLI_H
#define SIPCFG_CLI_H

int cli_resolve(int argc, char **argv);
int cli_provision(int argc, char **argv);

#endif
