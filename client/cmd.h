/* The commands of the burrow program, one group per cmd_*.c file. Each
 * takes the client state (home, config and flags parsed) and its own
 * arguments (argv[0] is the command name) and returns an exit code from
 * client.h. */
#ifndef BURROW_CLIENT_CMD_H
#define BURROW_CLIENT_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "client/address.h"
#include "client/client.h"

int cmd_init(struct client *c, int argc, char **argv);
int cmd_address(struct client *c, int argc, char **argv);
int cmd_fingerprint(struct client *c, int argc, char **argv);
int cmd_contacts(struct client *c, int argc, char **argv);
int cmd_send(struct client *c, int argc, char **argv);
int cmd_flush(struct client *c, int argc, char **argv);
int cmd_status(struct client *c, int argc, char **argv);
int cmd_fetch(struct client *c, int argc, char **argv);
int cmd_inbox(struct client *c, int argc, char **argv);
int cmd_read(struct client *c, int argc, char **argv);
int cmd_export(struct client *c, int argc, char **argv);

/* --- helpers shared by the commands (cmd_common.c) --- */

/* True if argv holds -h or --help; then print usage to stdout. */
bool cmd_wants_help(int argc, char **argv, const char *usage);
/* Print "usage: ..." to stderr and return EXIT_USAGE. */
int cmd_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Config + store + public identity: 0 or an exit code (printed). */
int cmd_prepare(struct client *c, bool need_identity);
/* cmd_prepare with the identity, then the identity unlocked and a
 * verified consensus: 0 or an exit code (printed). */
int cmd_prepare_online(struct client *c);

/* Resolve TO (an address or a contact name) into *a; *label gets what to
 * call it (heap). Returns 0, or an exit code after printing the reason. */
int cmd_resolve(struct client *c, const char *to, struct address *a, char **label);

/* The contact name for an identity key, or NULL (heap). */
char *cmd_name_for_key(struct client *c, const uint8_t pk[static ID_PK_LEN]);

/* Read a whole file (or stdin for NULL) of at most max bytes: 0, or an
 * exit code after printing. */
int cmd_read_input(const char *path, size_t max, uint8_t **out, size_t *len);

/* "4.0 KiB" style sizes. */
void cmd_size_str(char *out, size_t outlen, uint64_t n);

/* Print a jansson value to stdout and free it. */
struct json_t;
void cmd_json_print(struct json_t *v);

#endif
