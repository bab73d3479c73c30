/*
 * cmd.h - the tide CLI's subcommand table (libgit2 src/cli/cmd.h style) and the helpers every
 * verb shares: option parsing, opening the store, printing errors.
 *
 * Each verb lives in cli/cmd_<verb>.c and exports `int cmd_<verb>(int argc, char **argv)`, where
 * argv[0] is the verb itself. Exit codes (documented in `tide help`):
 *   0 success / pattern matches; 1 failure of the asked check (invalid pattern, no match,
 *   rejected records); 2 usage or data error; 3 store or I/O failure.
 */
#ifndef TIDE_CLI_CMD_H
#define TIDE_CLI_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "tide.h"

#define TIDE_EXIT_OK    0
#define TIDE_EXIT_FAIL  1
#define TIDE_EXIT_USAGE 2
#define TIDE_EXIT_STORE 3

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
    const char *usage; /* full --help text */
} cli_cmd;

/* The table, defined in main.c. */
extern const cli_cmd cli_commands[];
const cli_cmd *cli_find(const char *name);

/* Print "tide VERB: message" to stderr. */
void cli_err(const char *verb, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;
/* True when argv contains --help or -h: prints the verb's usage to stdout. */
bool cli_wants_help(const char *verb, int argc, char **argv);
/* Print a verb's usage to f. */
void cli_usage(const char *verb, FILE *f);

/* Global option parsed by main before the verb: --store LOCATION (a folder, or "sqlite:DIR").
 * Default: $TIDE_HOME or ./tide-data */
extern const char *cli_store_dir;
/* Open (creating if needed) the workspace at cli_store_dir; prints the error and returns NULL
 * on failure. */
tide_workspace *cli_open_workspace(const char *verb);
/* --decay TYPE=DAYS[:SPEED] of the verbs that score (match, index, export, case, show), taken
 * out of argv by main and applied by cli_open_workspace over STATE/decay.json. */
#define CLI_MAX_DECAY 32
extern const char *cli_decay[CLI_MAX_DECAY];
extern int cli_ndecay;
/* Only the workspace's store, for verbs that need nothing else (free with tide_store_free). */
tide_store *cli_open_store(const char *verb);

/* getopt_long-free option helper: if argv[*i] is "--name" or "--name=V", set *val and advance.
 * Returns 1 when matched, 0 when not, -1 when the value is missing (error printed). */
int cli_opt(const char *verb, int argc, char **argv, int *i, const char *name, const char **val);
/* Flag without value: returns 1 when argv[*i] == "--name". */
int cli_flag(char **argv, int i, const char *name);

/* The progress line of long work (ingest, match, history import, hunt) on stderr: drawn with
 * '\r' when stderr is a terminal (cli_progress_mode 0), or always (--progress: 1), never
 * (--no-progress, --quiet: -1); cleared when the work ends and before anything else is written
 * to stderr. cli_open_workspace attaches it to the workspace. */
extern int cli_progress_mode;
void cli_progress_attach(tide_workspace *ws, const char *verb);
/* Erase the progress line if one is drawn (before writing anything else to stderr). */
void cli_progress_clear(void);

/* The engine's notices, printed as "tide VERB: message" (payload: the verb). */
void cli_notice(tide_notice_level level, const char *msg, void *payload);
/* Seconds on the monotonic clock, for the timings a verb prints. */
double cli_mono(void);
/* One line on stderr when a match run left events out of history (times out of bounds, inputs
 * that ended in an error); nothing otherwise. */
void cli_history_losses(const char *verb, const tide_match_run_stats *st);

/* The verbs. */
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_warninglist(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_assets(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_sightings(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_hunt(int argc, char **argv);
int cmd_case(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_feeds(int argc, char **argv);
/* Print an ingest run's retro-hunt line "hunted N indicators: ..." when one ran. */
void cli_print_hunt(const tide_ingest_result *res);
/* Print what happened to a declared export target (written, failed) on stderr. */
void cli_print_target(const tide_target_result *r, void *payload);

#endif
