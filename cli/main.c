/*
 * main.c - entry point of the tide CLI: global options, the subcommand table, dispatch.
 * Verbs live in cmd_<verb>.c; shared helpers in cli_common.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

const cli_cmd cli_commands[] = {
    { "help", cmd_help, "show help for tide or for a verb", "usage: tide help [VERB]\n" },
    { "version", cmd_version, "print the version", "usage: tide version\n" },
    { "init", cmd_init, "create an empty store",
            "usage: tide [--store DIR] init\n"
            "Creates the store folder and its SQLite database (WAL) if absent and migrates the\n"
            "schema to the current version. Every other verb does this too when needed.\n" },
    { "demo", cmd_demo, "build a store from a small generated scenario and show it",
            "usage: tide [--store DIR] demo [--keep]\n"
            "Generates a small, realistic scenario (a STIX bundle with a campaign, malware,\n"
            "an intrusion set and indicators; a MISP event; a maltrail-style list; a CSV\n"
            "feed), ingests it into the store (--store DIR, $TIDE_HOME, else ./tide-data)\n"
            "and prints what the store holds. --keep keeps the generated files.\n" },
    { "pattern", cmd_pattern, "validate STIX patterns, or match them against observed data",
            "usage: tide pattern validate [--stix-version 2.0|2.1] PATTERN\n"
            "       tide pattern match [--stix-version 2.0|2.1] PATTERN FILE\n"
            "validate: exit 0 if PATTERN is valid; 1 and the position and reason if not.\n"
            "match: FILE holds observed data (2.1: a JSON array of bundles whose objects are\n"
            "merged; 2.0: a JSON array of observed-data objects with embedded objects).\n"
            "Exit 0 if the pattern matches, 1 if not, 2 on a pattern or data error.\n"
            "Nested REPEATS multiply, nested WITHIN / START-STOP merge; REPEATS over many\n"
            "observations is answered without forming every combination.\n" },
    { "ingest", cmd_ingest, "load intel: STIX 2.1, MISP events / feeds, CSV, plain lists",
            "usage: tide ingest [--format auto|stix|misp|misp-feed|csv|list] [--source NAME]\n"
            "                   [--tlp TLP] [--confidence N] [--reliability A-F]\n"
            "                   [--family NAME] [--columns MAP] [--batch N] [--json] PATH...\n"
            "PATH is a file, a directory (recursive; a MISP feed if it has manifest.json) or -\n"
            "for stdin. Bad records are reported as FILE:LINE: reason (or FILE@OFFSET) and\n"
            "skipped; good records of the same file are stored.\n"
            "  --source NAME      feed name (default: from the file name)\n"
            "  --tlp TLP          TLP for objects without a marking (clear, green, amber,\n"
            "                     amber+strict, red; TLP 1.0 white)\n"
            "  --confidence N     0-100 for indicators without a confidence\n"
            "  --reliability X    Admiralty source reliability A-F (default C)\n"
            "  --family NAME      the malware family a list indicates (also from a '# Family:\n"
            "                     NAME' header comment, or a list in a folder named malware/:\n"
            "                     the file name)\n"
            "  --columns MAP      CSV mapping, e.g. 'type=1,value=2,malware=3,campaign=4' or by\n"
            "                     header name 'value=ioc,type=ioc_type' (default: from the "
            "header,\n"
            "                     a '#' header line as abuse.ch writes it, or the first row)\n"
            "  --batch N          objects per transaction (default 250000); an interrupted\n"
            "                     ingest keeps every committed batch\n"
            "  --no-hunt          do not hunt added / changed indicators back through the\n"
            "                     history (done by default; stores retro-sightings)\n"
            "On a terminal a progress line (MB done / total, %, objects, rate) is drawn on\n"
            "stderr while it reads (--no-progress: none; --progress: also when not a terminal).\n"
            "Exit 0 when every input was read and no record was rejected, 1 when some records\n"
            "were rejected, 2 on usage errors or unreadable input, 3 on a store failure.\n" },
    { "feeds", cmd_feeds, "subscribe to TAXII 2.1 collections and HTTP(S) feeds; pull them",
            "usage: tide feeds add NAME URL [--kind taxii|auto|stix|misp|misp-feed|csv|list]\n"
            "                 [--collection ID] [--user U (--password P | --password-file F)\n"
            "                 | --key K | --key-file F] [--interval 1h] [--source S]\n"
            "                 [--tlp TLP] [--ca-bundle FILE] [--family NAME] [--columns MAP]\n"
            "                 [--limit N]\n"
            "       tide feeds list [--json]\n"
            "       tide feeds remove NAME\n"
            "       tide feeds pull [NAME | --due] [--retries N] [--retry-wait S] [--max-wait S]\n"
            "                 [--timeout S] [--connect-timeout S] [--max-pages N]\n"
            "                 [--max-bytes N] [--no-hunt] [--json]\n"
            "add registers a feed in the store (nothing is fetched). URL: for --kind taxii (the\n"
            "default with --collection) a TAXII 2.1 discovery URL (its default API root) or an\n"
            "API root; --collection ID (default: the only readable collection). Other kinds\n"
            "are plain HTTP(S) bodies in a format tide ingest reads (auto: detected as ingest\n"
            "does); misp-feed: the folder of a MISP feed (manifest.json, then new events).\n"
            "Credentials: HTTP Basic (--user with --password or --password-file, '-' for\n"
            "stdin) or 'Authorization: Bearer' (--key, --key-file), sent with every request;\n"
            "kept in the store, whose database is made mode 0600; list never shows them.\n"
            "Objects get the source NAME (--source S), TLP --tlp when unmarked; --interval\n"
            "(default 1h; 0: on demand only) is how often 'pull --due' and tide serve pull it.\n"
            "pull fetches NAME (none: every feed; --due: those due) into the store through an\n"
            "ingest run: pulled indicators are hunted back through the history. TAXII pulls\n"
            "resume after the last pull's X-TAXII-Date-Added-Last (added_after), follow next\n"
            "while more, and refuse a wrong Content-Type, more without next, a repeated next\n"
            "and more than --max-pages pages (default 10000). Plain feeds are asked with\n"
            "If-None-Match / If-Modified-Since (304: not modified). 429, 5xx and connection\n"
            "failures are retried --retries times (default 3) after --retry-wait seconds\n"
            "(default 1) doubled each time, or what Retry-After says, at most --max-wait (60).\n"
            "--timeout: one request (default 300 s); --max-bytes: one response (512 MiB).\n"
            "Proxies come from http_proxy / https_proxy / no_proxy. A failed pull keeps what\n"
            "earlier pulls stored. Exit 0 when every pull succeeded, 1 when records were\n"
            "rejected, 2 when a peer's answer was refused (content type, data, paging), 3 when\n"
            "a peer could not be reached or answered an HTTP error, or the store failed.\n"
            "See docs/feeds.md.\n" },
    { "show", cmd_show, "print a stored object by id, or the indicators of a value",
            "usage: tide show [--versions] [--json] ID|VALUE\n"
            "ID prints the current version's JSON (--versions: every version's modified).\n"
            "VALUE (an IP, domain, URL, hash, JA3 or x509 fingerprint ..., defanged or not)\n"
            "prints the indicators it would match, with their context and related objects:\n"
            "those naming it, and those that cover it (a listed CIDR holding an address, a\n"
            "listed parent domain, a URL's listed path or host, an ip:port's address), each\n"
            "with the listed value that covers it ('matched' in --json). Exit 1 when none.\n" },
    { "search", cmd_search, "find objects by type, value, relation, source, time",
            "usage: tide search [--type T] [--value V] [--related NAME] [--source S]\n"
            "                   [--since T] [--limit N] [--json]\n"
            "--related NAME: the objects one hop from NAME, and every indicator related to it\n"
            "through any chain of relationships (its campaigns, their intrusion sets and threat\n"
            "actors, the malware they use), as hunt, export and cases select them.\n" },
    { "stats", cmd_stats, "counts by type, source, TLP and observable kind",
            "usage: tide stats [--json]\n"
            "The JSON carries the total number of stored object versions under 'objects'.\n" },
    { "warninglist", cmd_warninglist, "load MISP warninglists; check a value against them",
            "usage: tide warninglist load PATH...     (MISP list.json files or folders)\n"
            "       tide warninglist check VALUE...\n"
            "       tide warninglist list [--json]\n"
            "Built-in private, loopback and bogon ranges always apply.\n" },
    { "match", cmd_match, "match telemetry against the intel; print and store sightings",
            "usage: tide match [--format F] [--follow] [--no-store] [--no-history] "
            "[--hide-suppressed]\n"
            "                  [--home-net CIDRS] [--map SPEC|FILE] [--rebuild-index] PATH...|-\n"
            "Reads Zeek (TSV, JSON), Suricata EVE, Sysmon JSON, Squid, Apache/nginx, syslog,\n"
            "CEF and mapped NDJSON logs (plain, .gz, .zst; folders recursively; '-' = stdin),\n"
            "format detected per file unless --format zeek|zeek-json|eve|sysmon|squid|weblog|\n"
            "syslog|cef|ndjson. Prints one NDJSON sighting per event x matched indicator:\n"
            "ts, host, observed, field, file, line, event, indicator, indicator_id, type,\n"
            "campaign / malware / actor, confidence, score, tlp, kill_chain, source,\n"
            "suppressed (warninglisted or private / bogon; --hide-suppressed drops them).\n"
            "A url-path indicator (maltrail's '/path', [url:value LIKE '%/path']) matches\n"
            "every URL, and every web request target, whose path and query end with it at\n"
            "a '/'.\n"
            "Other STIX patterns are confirmed on each candidate event: one naming an\n"
            "observable of the pattern, or holding a literal fragment of its LIKE / MATCHES\n"
            "(the pattern is then the sighting's indicator). A pattern of several observations\n"
            "([A] AND [B], FOLLOWEDBY, REPEATS n, with WITHIN) is decided on a window of the\n"
            "host's last 64 candidate events per indicator (64 MiB for all windows, older\n"
            "events evicted and counted); a match gives one sighting, on the event that\n"
            "completes it, and starts the window again.\n"
            "Sightings are stored per host x indicator unless --no-store. --follow keeps\n"
            "reading files and folders as they grow (new files, appended lines, rotation by\n"
            "rename or copytruncate) and swaps in a new index when the intel changes.\n"
            "Exactly once: stored sightings and history are recorded once per event; a file\n"
            "read again (a re-run, a copy, a restarted follower) records only what is new\n"
            "(its sightings are still printed, except by a follower, which resumes where it\n"
            "committed: every 5 s and when new intel arrives). See docs/reliability.md.\n"
            "--home-net sets the internal\n"
            "networks (default RFC 1918, 100.64/10, 169.254/16, 127/8, fc00::/7, fe80::/10).\n"
            "Every observation also goes to the history (tide hunt) unless --no-history.\n"
            "A summary goes to stderr; bad records are reported with file and line.\n"
            "On a terminal a progress line (MB done / total, %, events, rate) is drawn on\n"
            "stderr while it reads; --quiet or --no-progress: none (--progress: always).\n"
            "--decay TYPE=DAYS[:SPEED] (repeatable) overrides STORE/decay.json for the scores.\n" },
    { "sightings", cmd_sightings, "list stored sightings per host x indicator",
            "usage: tide sightings [--host H] [--indicator V|ID] [--since T] [--retro]\n"
            "                      [--suppressed] [--limit N] [--json]\n"
            "T is an ISO 8601 time or a relative one such as 24h or 7d. --json gives each\n"
            "stored sighting with a users array when the logs named users (Squid ident, CEF\n"
            "suser, Sysmon User ...).\n" },
    { "index", cmd_index, "build the match index from the store; show its size",
            "usage: tide index build [--output FILE] [--json] [--left-out]\n"
            "       tide index info [FILE] [--json] [--left-out]\n"
            "The default FILE is STORE/match.idx, which 'tide match' reuses while the intel\n"
            "and the decay configuration have not changed. --decay TYPE=DAYS[:SPEED] as for\n"
            "'tide export'.\n"
            "Every indicator active now is in the index, by its observables, or, for a STIX\n"
            "pattern of LIKE / MATCHES comparisons, by the literal fragments (3+ characters) the\n"
            "compared value must contain. The rest is left out and counted per reason (revoked,\n"
            "expired, not-yet-valid, nothing-to-look-for, unparsable-pattern, pattern-type);\n"
            "partly-indexed counts patterns with a branch that cannot fire. --left-out lists\n"
            "each: id, reason, detail (tab-separated, or left_out_list with --json).\n" },
    { "export", cmd_export, "blocklists and intel exports: rpz, nft, ipset, squid, suricata, ...",
            "usage: tide export --format FMT [--min-score N] [--min-confidence N] [--types T,...]\n"
            "                   [--tlp-max TLP] [--source S] [--related NAME] [--since T]\n"
            "                   [--output FILE|DIR] [--incremental] [--explain] [--quiet]\n"
            "                   [--action nxdomain|nodata|drop|passthru|local-data=TARGET]\n"
            "                   [--zone NAME] [--policy RULE] [--allow-categories FILE --allow "
            "CAT,...]\n"
            "       tide export --target add NAME --format FMT [filters] --output FILE|DIR\n"
            "                   [--incremental]\n"
            "       tide export --target list [--json] | --target remove NAME\n"
            "       tide export --status [--json] | --refresh [NAME]\n"
            "FMT: rpz, nft, ipset, squid (DIR), suricata (DIR), zeek, yara, stix, misp, csv, txt.\n"
            "Only indicators valid now, not revoked, with a decayed score >= --min-score\n"
            "(default 1), not warninglisted and never private / bogon space are exported. A\n"
            "summary of what was left out and why goes to stderr; --explain lists each.\n"
            "  --types T,...      ip, cidr, hash, ipv4, ipv6, cidr4, cidr6, domain, url, md5 ...\n"
            "  --since T          only indicators added or changed since T (date, RFC 3339, 30d)\n"
            "  --output F|DIR     default stdout (single-file formats)\n"
            "  --incremental      the full export at F, and beside it what changed since the\n"
            "                     last export to F: rpz: F.added / F.removed; nft: F.diff (add /\n"
            "                     delete element); ipset: F.diff (add / del); suricata:\n"
            "                     DIR/tide-dataset-changes.txt\n"
            "  --policy RULE      nft / ipset: 'software NAME OP VERSION -> deny-egress' over the\n"
            "                     assets (tide assets import), e.g. 'software java < 1.7 -> "
            "deny-egress'\n"
            "  --allow-categories FILE  squid: allow the domains of a category list (CSV\n"
            "                     domain,category or 'category: domain' lines), deny the rest;\n"
            "                     --allow CAT,... restricts the categories\n"
            "  --decay TYPE=DAYS[:SPEED]  lifetime and speed of one observable type's decay\n"
            "                     (repeatable; ip, cidr, hash, url, domain, ipv4, sha256 ...),\n"
            "                     over STORE/decay.json, e.g. --decay ip=14 --decay "
            "domain=120:0.5\n"
            "--related NAME follows every chain of relationships (campaign -> intrusion set ->\n"
            "threat actor, the malware a campaign uses), the rule search, hunt and cases use.\n"
            "Targets: exports that follow the intel. A declared target (kept in\n"
            "STORE/exports.json) is written at once, then again by every ingest, match run,\n"
            "lesson promotion, decay crossing or --status that changes what it selects;\n"
            "a --policy / --allow-categories target follows the assets and the category\n"
            "file instead (rewritten by 'tide assets import' when its content changes).\n"
            "  --status           check the targets, write those due; last written, counts\n"
            "  --refresh [NAME]   write every target (or NAME) now\n"
            "See docs/exports.md.\n" },
    { "assets", cmd_assets, "asset inventory: import CSV / JSON, list",
            "usage: tide assets import FILE...\n"
            "       tide assets list [--json]\n"
            "FILE: CSV with header host,ips,hostname,owner,criticality,software (ips separated\n"
            "by ';', software as 'name version;name version'), or a JSON array of objects with\n"
            "the same keys (ips an array, software [{\"name\",\"version\"}]).\n"
            "Then the declared policy exports (tide export --target with --policy or\n"
            "--allow-categories, a closed case's prevention rules) are rewritten when what\n"
            "they hold changed.\n" },
    { "history", cmd_history, "observation history: import logs, prune, compact, stats",
            "usage: tide history import [--format F] [--home-net CIDRS] [--map SPEC|FILE]\n"
            "                           [--retention Nd] [--keep] [--json] PATH...\n"
            "       tide history prune [--before T] [--retention Nd]\n"
            "       tide history compact\n"
            "       tide history stats [--json]\n"
            "import remembers every observation of the logs (as 'tide match' reads them) per\n"
            "day as distinct (observable, host) with first / last seen, count and first place,\n"
            "under STORE/history; a log imported before records only what is new. Retention\n"
            "(default 90 days, counted back from the newest day in history) is applied on\n"
            "every import, which says what it removed and why; --keep keeps the days of this\n"
            "import whatever the retention; prune --before T drops older days, kept or not.\n"
            "A day holds one run file per writer's spill or commit; a commit merges the\n"
            "smallest runs of a day of more than 16; compact merges every day into one.\n"
            "import and stats count the same events (stats also shows observations).\n"
            "import draws a progress line on a terminal, as 'tide match' does.\n"
            "See docs/history.md.\n" },
    { "hunt", cmd_hunt, "retro-hunt indicators through the history",
            "usage: tide hunt (--indicator V|ID | --related NAME | --added-since T | --all)\n"
            "                 [--since T] [--until T] [--no-store] [--json]\n"
            "Prints one retro-sighting per (host, indicator) found in history: host, indicator,\n"
            "observed, first_seen, last_seen, count, file, line, retro, and the context of\n"
            "'tide match' sightings. Same semantics as 'tide match' (CIDRs, parent domains,\n"
            "URL paths, hashes). Results are stored as retro-sightings unless --no-store.\n"
            "T is RFC 3339, a date, or an age like 7d. --related NAME follows every chain of\n"
            "relationships (as search and export do); a NAME nothing in the store has exits 1.\n"
            "On a terminal a progress line counts the retro-sightings found and their rate.\n" },
    { "case", cmd_case, "response cases: attribution, blast radius, tier, plan, recovery",
            "usage: tide case open (--sighting ID | --host H --indicator V) [--json]\n"
            "       tide case auto [--min-score N] [--since T] [--json]\n"
            "       tide case list [--json]\n"
            "       tide case show N [--json|--markdown]     (refreshes the case first)\n"
            "       tide case plan N [--json|--markdown]\n"
            "       tide case refresh N\n"
            "       tide case host N HOST --state contained|eradicated|recovered [--by WHO]\n"
            "                                                 [--note TEXT]\n"
            "       tide case lessons N --file F\n"
            "       tide case close N [--tlp TLP]\n"
            "       tide case share N --tlp-max TLP --output F\n"
            "Common: --policy FILE (default STORE/policy.json, else SPEC C4 defaults),\n"
            "--now T (reference time for the watch period and case auto's decayed scores),\n"
            "--no-hunt (no history hunt), --decay TYPE=DAYS[:SPEED] (case auto's scores).\n"
            "A case attributes the indicator (relationship walk), hunts every indicator of\n"
            "the campaign / malware through history to find silent hosts, picks a tier\n"
            "(1 clean & monitor, 2 hunt & contain, 3 major incident) and an ordered plan.\n"
            "Hosts go affected -> contained -> eradicated -> recovered -> verified (after a\n"
            "clean watch of 14 / 30 days). 'auto' opens a case for every unsuppressed live\n"
            "sighting scoring >= N (default 50) that no open case covers; later sightings of\n"
            "the same campaign join the first case.\n"
            "Lessons (text: 'key: value' lines indicator, prevention, policy, detection-gap,\n"
            "response-gap; or JSON): a prevention written as a rule, or a 'policy:' line,\n"
            "  software NAME OP VERSION -> deny-egress [as nft|ipset] [to FILE]\n"
            "  proxy deny-uncategorized categories FILE [allow CAT,...] [to DIR]\n"
            "is checked when recorded (a bad rule: file:line and reason, nothing stored) and\n"
            "becomes at close a policy export: the export target case-N-policy-K (default\n"
            "output STORE/policies/case-N-policy-K[.nft|.ipset]), written at once, rewritten\n"
            "when the assets change, listed by 'tide export --status' and in the case.\n"
            "See docs/response.md.\n" },
    { "metrics", cmd_metrics, "response metrics: time to detect / contain / recover, dwell",
            "usage: tide metrics [--json] [--now T]\n"
            "Per case and overall: time to detect (first evidence -> first live sighting),\n"
            "to contain, to recover, dwell time (seconds), counts by tier, internal vs\n"
            "external intel. Output is JSON.\n" },
    { "serve", cmd_serve, "the HTTP API: intel, sightings, hunts, cases, exports",
            "usage: tide serve [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE]\n"
            "                  [--max-body BYTES] [--max-connections N] [--timeout S]\n"
            "                  [--request-timeout S] [--grace S] [--ui DIR]\n"
            "                  [--sessions N] [--session-idle S] [--config FILE]\n"
            "                  [--no-schedule] [--export-every DURATION] [--verify-every "
            "DURATION]\n"
            "Serves the JSON API under /api/v1/ (docs/server.md; the OpenAPI document at\n"
            "/api/openapi.json) in the foreground until SIGTERM or SIGINT: then no new\n"
            "connection is accepted, requests in flight finish (up to --grace, default 30 s),\n"
            "live streams end and the store is closed. Default address 127.0.0.1:8470 (port 0:\n"
            "any free port; the line 'listening on URL' on stderr gives it). Every route but\n"
            "/api/v1/health takes a key (tide keys add): 'Authorization: Bearer KEY'.\n"
            "Limits: request line + headers 16 KiB, bodies 64 MiB for intel uploads\n"
            "(--max-body) and 64 KiB elsewhere, 512 connections (--max-connections), idle\n"
            "connections closed after 15 s (--timeout), a request head must arrive within\n"
            "30 s (--request-timeout), and a body average 1 KiB/s after that.\n"
            "The web UI (docs/ui.md) is served at / from the bundle scripts/setup.sh builds\n"
            "into build/ui (--ui DIR: another folder); it signs in with a key for a session\n"
            "cookie: at most 256 sessions (--sessions), ended after 30 min without a request\n"
            "(--session-idle) or 12 h.\n"
            "Scheduled work (unless --no-schedule): feeds (tide feeds add) pulled when due,\n"
            "export targets checked every 5m (--export-every), open cases' recovered hosts\n"
            "verified every 1h (--verify-every); GET /api/v1/schedule shows each job. At\n"
            "stop, hunts and a scheduled job still running after --grace are cancelled.\n"
            "TAXII 2.1 under /taxii2/ (docs/taxii.md): collections of intel, sightings and an\n"
            "inbox. --config FILE: a JSON object of these options without the dashes\n"
            "(\"listen\": \"127.0.0.1:8470\", ...; the command line wins) and \"taxii\": the\n"
            "API roots and collections to publish.\n" },
    { "keys", cmd_keys, "API keys of tide serve: add, list, revoke; the audit log",
            "usage: tide keys add NAME --role reader|analyst|admin|peer --tlp-max TLP [--json]\n"
            "       tide keys list [--json]\n"
            "       tide keys revoke NAME\n"
            "       tide keys audit [--since T] [--limit N]\n"
            "add prints the new key once (only its SHA-256 is stored): keep it. --json prints\n"
            "one object {name, role, tlp_max, key}. TLP: clear (white), green, amber,\n"
            "amber+strict, red: the highest level the key may read (unmarked intel counts as\n"
            "amber). Roles: reader (reads), analyst (reads, intel in, hunts, cases), admin\n"
            "(all, keys and audit log), peer (intel in and out, exports). A revoked key is\n"
            "refused from the next request on. audit prints the API's writes (JSON).\n" },
    { NULL, NULL, NULL, NULL },
};

const char *cli_store_dir;

static void print_overview(FILE *f)
{
    fprintf(f, "usage: tide [--store LOCATION] [--progress|--no-progress] VERB [OPTIONS] [ARGS]\n\n"
               "tide makes threat intelligence operational: prevention, detection, response\n"
               "and recovery from one intel store.\n\nverbs:\n");
    for (const cli_cmd *c = cli_commands; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "\n'tide VERB --help' describes a verb. The store is LOCATION (a folder, or\n"
               "sqlite:DIR), else $TIDE_HOME, else ./tide-data.\n\n"
               "progress: ingest, match, history import, hunt and export draw one line on stderr\n"
               "(done / total, %%, rate) when it is a terminal, nothing otherwise; --progress "
               "draws it\n"
               "anyway, --no-progress never (before or after the verb).\n\nexit codes: 0 ok; 1 the "
               "asked "
               "check failed (invalid pattern, no\n"
               "match, rejected records); 2 usage or input error; 3 store or I/O failure.\n");
}

int cmd_help(int argc, char **argv)
{
    if (argc > 1) {
        const cli_cmd *c = cli_find(argv[1]);
        if (c == NULL) {
            cli_err("help", "unknown verb '%s'", argv[1]);
            return TIDE_EXIT_USAGE;
        }
        fputs(c->usage, stdout);
        return TIDE_EXIT_OK;
    }
    print_overview(stdout);
    return TIDE_EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("tide %s\n", TIDE_VERSION);
    return TIDE_EXIT_OK;
}

int main(int argc, char **argv)
{
    int i = 1;
    cli_store_dir = getenv("TIDE_HOME");
    while (i < argc && argv[i][0] == '-') {
        const char *v;
        int r = cli_opt("tide", argc, argv, &i, "store", &v);
        if (r < 0)
            return TIDE_EXIT_USAGE;
        if (r > 0) {
            cli_store_dir = v;
            continue;
        }
        if (strcmp(argv[i], "--progress") == 0 || strcmp(argv[i], "--no-progress") == 0) {
            cli_progress_mode = argv[i][2] == 'p' ? 1 : -1;
            i++;
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_overview(stdout);
            return TIDE_EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0)
            return cmd_version(0, NULL);
        cli_err("tide", "unknown option '%s'", argv[i]);
        return TIDE_EXIT_USAGE;
    }
    if (cli_store_dir == NULL || *cli_store_dir == '\0')
        cli_store_dir = "./tide-data";
    if (i >= argc) {
        print_overview(stderr);
        return TIDE_EXIT_USAGE;
    }
    const cli_cmd *c = cli_find(argv[i]);
    if (c == NULL) {
        cli_err("tide", "unknown verb '%s' (see 'tide help')", argv[i]);
        return TIDE_EXIT_USAGE;
    }
    if (cli_wants_help(c->name, argc - i, argv + i))
        return TIDE_EXIT_OK;
    /* --progress / --no-progress anywhere after the verb too (up to "--") */
    {
        int w = i + 1, r = i + 1;
        for (; r < argc && strcmp(argv[r], "--") != 0; r++) {
            if (strcmp(argv[r], "--progress") == 0 || strcmp(argv[r], "--no-progress") == 0)
                cli_progress_mode = argv[r][2] == 'p' ? 1 : -1;
            else
                argv[w++] = argv[r];
        }
        while (r < argc)
            argv[w++] = argv[r++];
        argc = w;
    }
    /* the verbs that score take --decay TYPE=DAYS[:SPEED] (repeatable) anywhere after the verb */
    static const char *const scoring[] = { "match", "index", "export", "case", "show", NULL };
    bool scores = false;
    for (int k = 0; scoring[k]; k++)
        scores |= strcmp(c->name, scoring[k]) == 0;
    if (scores) {
        int w = i + 1;
        for (int r = i + 1; r < argc; r++) {
            const char *v = NULL;
            if (strcmp(argv[r], "--") == 0) {
                while (r < argc)
                    argv[w++] = argv[r++];
                break;
            }
            if (strcmp(argv[r], "--decay") == 0) {
                if (r + 1 >= argc) {
                    cli_err(c->name, "--decay needs TYPE=DAYS[:SPEED], e.g. --decay ip=14");
                    return TIDE_EXIT_USAGE;
                }
                v = argv[++r];
            } else if (strncmp(argv[r], "--decay=", 8) == 0) {
                v = argv[r] + 8;
            }
            if (v == NULL) {
                argv[w++] = argv[r];
                continue;
            }
            tide_decay_config probe;
            tide_decay_defaults(&probe);
            if (tide_decay_set(&probe, v) < 0) {
                cli_err(c->name, "--decay: %s", tide_error_last());
                return TIDE_EXIT_USAGE;
            }
            if (cli_ndecay == CLI_MAX_DECAY) {
                cli_err(c->name, "more than %d --decay options", CLI_MAX_DECAY);
                return TIDE_EXIT_USAGE;
            }
            cli_decay[cli_ndecay++] = v;
        }
        argc = w;
        argv[argc] = NULL;
    }
    return c->fn(argc - i, argv + i);
}
