/*
 * demo.h - the demo scenario behind `tide demo` (and any front end's demo mode): a small
 * fictional intrusion written as files, from a seeded generator, so the values are the same on
 * every run. The timestamps are anchored to the scenario's day (today once 16:00 UTC has
 * passed, else yesterday), so the intel is fresh and every event lies in the past.
 *
 * The files: a STIX 2.1 bundle (intrusion set, campaign, two malware families, ~30
 * indicators), a MISP event, a maltrail-style trail list and a CSV feed (four feeds sharing
 * some values), a day of Zeek conn / dns / http / files logs of five hosts (two infected), the
 * previous day's DNS log (two silent hosts, for history), and a lessons-learned file. The
 * names are invented; IPs and domains look like public infrastructure but are random.
 */
#ifndef TIDE_DEMO_H
#define TIDE_DEMO_H

#include <stdint.h>

#include "common.h"
#include "ingest.h"

typedef struct tide_demo tide_demo;

/** @brief Generate the scenario (in memory). */
TIDE_EXTERN(int) tide_demo_new(tide_demo **out);
/** @brief Write its files into a new folder under parent (NULL: $TMPDIR, else /tmp). */
TIDE_EXTERN(int) tide_demo_write(tide_demo *d, const char *parent);
/** @brief Remove the files written (and the folder). */
TIDE_EXTERN(void) tide_demo_remove(tide_demo *d);
TIDE_EXTERN(void) tide_demo_free(tide_demo *d);

#define TIDE_DEMO_FEEDS 4

/** What a front end shows and loads. Strings borrowed from the scenario; paths are set once
 *  the files are written. */
typedef struct {
    const char *actor, *campaign, *malware[2];
    int64_t day_ms; /**< the scenario's day, 00:00 UTC */
    const char *dir;
    struct {
        const char *path, *file, *source;
        tide_feed_format format;
        const char *format_name;
        const char *tlp;    /**< given at ingest to objects without one (may be NULL) */
        const char *family; /**< may be NULL */
        char reliability;
    } feeds[TIDE_DEMO_FEEDS];
    const char *zeek_dir;
    const char *zeek[4]; /**< the day's conn, dns, http, files logs */
    const char *old_dns; /**< the previous day's DNS log (history only) */
    const char *lessons; /**< the lessons-learned record of the demo case */
    const char *share;   /**< where the case's share bundle goes */
    /* values several feeds carry, and the infected host's sample */
    const char *shared_domain, *shared_ip, *shared_sha256, *shared_url, *csv_ip, *csv_sha256;
    const char *infected_host; /**< the host the demo case opens on */
} tide_demo_info;

TIDE_EXTERN(void) tide_demo_info_get(const tide_demo *d, tide_demo_info *out);

#endif
