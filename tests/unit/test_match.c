/*
 * test_match.c - the compiled match index and the matcher: every containing CIDR (IPv4 and
 * IPv6, nested), parent domains by label walk, URLs (case of scheme and host, default port)
 * and URL paths by suffix, ip:port, case-insensitive hashes, several indicators on one value,
 * validity (expired, not yet valid, revoked left out), private ranges suppressed, save / map
 * round trip and corrupt files rejected, one sighting per event x indicator, non-simple
 * patterns confirmed on the event, and the index's size per indicator (issue 18).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "match/index_int.h"
#include "tide.h"

static tide_store *store;
static int seq;

static void add(const char *value, tide_obs_kind kind, const char *pattern, bool simple,
        int64_t valid_from, int64_t valid_until, bool revoked, char *id_out)
{
    char id[64];
    snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012d", ++seq);
    if (id_out)
        snprintf(id_out, 64, "%s", id);
    tide_object_rec r = { .id = id,
        .type = "indicator",
        .modified = "2026-01-01T00:00:00Z",
        .json = "{}",
        .json_len = 2,
        .source = "unit" };
    int st;
    TIDE_ASSERT_EQ_INT(tide_store_put_object(store, &r, &st), 0);
    tide_indicator_rec ir = { .id = id,
        .pattern = pattern ? pattern : "[x:y = 'z']",
        .pattern_type = "stix",
        .source = "unit",
        .reliability = 'B',
        .confidence = 90,
        .valid_from = valid_from,
        .valid_until = valid_until,
        .simple = simple,
        .revoked = revoked };
    tide_obs_ref o = { kind, value };
    TIDE_ASSERT_EQ_INT(tide_store_put_indicator(store, &ir, &o, 1), 0);
}

static void add_simple(const char *value, tide_obs_kind kind)
{
    add(value, kind, NULL, true, 0, 0, false, NULL);
}

typedef struct {
    int n;
    char values[1024];
    int suppressed;
} hits;

static int collect(const tide_match_hit *h, void *payload)
{
    hits *c = payload;
    c->n++;
    c->suppressed += h->suppressed;
    size_t len = strlen(c->values);
    snprintf(c->values + len, sizeof(c->values) - len, "%s%.*s", len ? " " : "", (int)h->value_len,
            h->value);
    return 0;
}

static hits look(const tide_match_index *ix, tide_obs_kind kind, const char *v)
{
    hits c = { 0, "", 0 };
    TIDE_ASSERT_EQ_INT(tide_match_lookup(ix, kind, v, strlen(v), collect, &c), 0);
    return c;
}

static bool has(const hits *h, const char *v)
{
    char pad[1100];
    snprintf(pad, sizeof(pad), " %s ", h->values);
    char want[300];
    snprintf(want, sizeof(want), " %s ", v);
    return strstr(pad, want) != NULL;
}

static tide_match_index *build_sample(void)
{
    TIDE_ASSERT_EQ_INT(tide_store_open(&store, tide_test_tmpdir()), 0);
    seq = 0;
    TIDE_ASSERT_EQ_INT(tide_store_begin(store), 0);
    add_simple("10.0.0.0/8", TIDE_OBS_CIDR4);
    add_simple("1.2.0.0/16", TIDE_OBS_CIDR4);
    add_simple("1.2.3.0/24", TIDE_OBS_CIDR4);
    add_simple("1.2.3.4", TIDE_OBS_IPV4);
    add_simple("1.0.0.0/8", TIDE_OBS_CIDR4);
    add_simple("2001:db8::/32", TIDE_OBS_CIDR6);
    add_simple("2001:db8:1::5", TIDE_OBS_IPV6);
    add_simple("evil.example", TIDE_OBS_DOMAIN);
    add_simple("deep.sub.evil.example", TIDE_OBS_DOMAIN);
    add_simple("http://evil.example/a/b.php?id=1", TIDE_OBS_URL);
    add_simple("/guids/x/", TIDE_OBS_URL_PATH);
    add_simple("206.130.141.255:449", TIDE_OBS_IP_PORT);
    add_simple("[2001:db8::9]:443", TIDE_OBS_IP_PORT);
    add_simple("d41d8cd98f00b204e9800998ecf8427e", TIDE_OBS_MD5);
    add_simple("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", TIDE_OBS_SHA256);
    add_simple("bad@evil.example", TIDE_OBS_EMAIL);
    add_simple("5.5.5.5", TIDE_OBS_IPV4); /* twice: two indicators, one value */
    add_simple("5.5.5.5", TIDE_OBS_IPV4);
    add("6.6.6.6", TIDE_OBS_IPV4, NULL, true, 0, 1000, false, NULL);          /* expired */
    add("7.7.7.7", TIDE_OBS_IPV4, NULL, true, INT64_MAX / 2, 0, false, NULL); /* not yet */
    add("8.8.4.4", TIDE_OBS_IPV4, NULL, true, 0, 0, true, NULL);              /* revoked */
    TIDE_ASSERT_EQ_INT(tide_store_commit(store), 0);
    tide_match_index *ix = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_index_build(&ix, store, NULL), 0);
    return ix;
}

static void check_sample(const tide_match_index *ix)
{
    hits h = look(ix, TIDE_OBS_IPV4, "1.2.3.4");
    TIDE_ASSERT_EQ_INT(h.n, 4); /* exact + /24 + /16 + /8: every containing prefix */
    TIDE_ASSERT(has(&h, "1.2.3.4") && has(&h, "1.2.3.0/24") && has(&h, "1.2.0.0/16") &&
                has(&h, "1.0.0.0/8"));
    h = look(ix, TIDE_OBS_IPV4, "1.2.4.1");
    TIDE_ASSERT_EQ_INT(h.n, 2);
    h = look(ix, TIDE_OBS_IPV4, "1.3.0.0");
    TIDE_ASSERT_EQ_INT(h.n, 1);
    h = look(ix, TIDE_OBS_IPV4, "1.255.255.255");
    TIDE_ASSERT_EQ_INT(h.n, 1);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "2.0.0.0").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "0.255.255.255").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "255.255.255.255").n, 0);
    h = look(ix, TIDE_OBS_IPV4, "001.002.003.004"); /* leading zeros as some logs write */
    TIDE_ASSERT_EQ_INT(h.n, 4);
    h = look(ix, TIDE_OBS_IPV4, "10.1.2.3");
    TIDE_ASSERT_EQ_INT(h.n, 1);
    TIDE_ASSERT(has(&h, "10.0.0.0/8"));
    TIDE_ASSERT_EQ_INT(h.suppressed, 1);           /* 10/8 is private */
    h = look(ix, TIDE_OBS_IPV6, "::ffff:1.2.3.4"); /* IPv4-mapped is the IPv4 address */
    TIDE_ASSERT_EQ_INT(h.n, 4);
    h = look(ix, TIDE_OBS_IPV6, "2001:DB8:1::5");
    TIDE_ASSERT_EQ_INT(h.n, 2);
    TIDE_ASSERT(has(&h, "2001:db8::/32") && has(&h, "2001:db8:1::5"));
    h = look(ix, TIDE_OBS_IPV6, "2001:db9::1");
    TIDE_ASSERT_EQ_INT(h.n, 0);
    h = look(ix, TIDE_OBS_IPV4, "5.5.5.5");
    TIDE_ASSERT_EQ_INT(h.n, 2);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "6.6.6.6").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "7.7.7.7").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "8.8.4.4").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "1.2.3").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "1.2.3.4.5").n, 0);

    h = look(ix, TIDE_OBS_DOMAIN, "WWW.Deep.Sub.Evil.Example.");
    TIDE_ASSERT_EQ_INT(h.n, 2);
    TIDE_ASSERT(has(&h, "evil.example") && has(&h, "deep.sub.evil.example"));
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_DOMAIN, "evil.example").n, 1);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_DOMAIN, "notevil.example").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_DOMAIN, "example").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_DOMAIN, "sub.evil.example.org").n, 0);

    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_URL, "HTTP://EVIL.example:80/a/b.php?id=1").n, 1);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_URL, "http://evil.example/a/b.php?id=2").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_URL, "http://evil.example/A/b.php?id=1").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_URL, "http://evil.example/a/b.php?id=1#frag").n, 1);
    h = look(ix, TIDE_OBS_URL, "http://any.host/q/guids/x/");
    TIDE_ASSERT_EQ_INT(h.n, 1);
    TIDE_ASSERT(has(&h, "/guids/x/"));
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_URL, "http://any.host/guids/x/y").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_URL, "http://any.host/aguids/x/").n, 0);

    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IP_PORT, "206.130.141.255:449").n, 1);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IP_PORT, "206.130.141.255:443").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "206.130.141.255").n, 0); /* ip:port only */
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IP_PORT, "[2001:DB8::9]:443").n, 1);

    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_MD5, "D41D8CD98F00B204E9800998ECF8427E").n, 1);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_MD5, "d41d8cd98f00b204e9800998ecf8427f").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_SHA1, "d41d8cd98f00b204e9800998ecf8427e").n, 0);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_SHA256,
                               "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
                               .n,
            1);
    TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_EMAIL, "Bad@Evil.Example").n, 1);

    tide_match_index_info info;
    tide_match_index_info_get(ix, &info);
    TIDE_ASSERT_EQ_INT(info.indicators, 18);
    TIDE_ASSERT_EQ_INT(info.skipped_invalid, 3);
    TIDE_ASSERT_EQ_INT(info.cidrs, 5);
}

static void t_semantics(void)
{
    tide_match_index *ix = build_sample();
    check_sample(ix);
    tide_match_index_free(ix);
    tide_store_free(store);
}

static void t_save_load(void)
{
    tide_match_index *ix = build_sample();
    char path[600];
    snprintf(path, sizeof(path), "%s/m.idx", tide_test_tmpdir());
    TIDE_ASSERT_EQ_INT(tide_match_index_save(ix, path), 0);
    tide_match_index_free(ix);
    tide_match_index *ld = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_index_load(&ld, path), 0);
    check_sample(ld);
    tide_match_index_free(ld);

    /* reading the file back: every single flipped byte and every truncation is refused */
    FILE *f = fopen(path, "rb");
    TIDE_ASSERT(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *img = malloc((size_t)size);
    TIDE_ASSERT(fread(img, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    char bad[700];
    snprintf(bad, sizeof(bad), "%s.bad", path);
    long positions[] = { 0, 9, 40, size / 3, size / 2, size - 1 };
    for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
        img[positions[i]] ^= 0x5a;
        f = fopen(bad, "wb");
        fwrite(img, 1, (size_t)size, f);
        fclose(f);
        img[positions[i]] ^= 0x5a;
        TIDE_ASSERT(tide_match_index_load(&ld, bad) == TIDE_EFORMAT);
        TIDE_ASSERT(ld == NULL);
        TIDE_ASSERT(strstr(tide_error_last(), bad) != NULL);
    }
    f = fopen(bad, "wb");
    fwrite(img, 1, (size_t)size / 2, f);
    fclose(f);
    TIDE_ASSERT(tide_match_index_load(&ld, bad) == TIDE_EFORMAT);
    TIDE_ASSERT(strstr(tide_error_last(), "truncated") != NULL);
    TIDE_ASSERT(tide_match_index_load(&ld, "/nonexistent/m.idx") == TIDE_ENOTFOUND);
    free(img);
    tide_store_free(store);
}

typedef struct {
    int n;
    char last[128];
    int suppressed;
} sight;

static int on_sighting(const tide_sighting *s, void *payload)
{
    sight *c = payload;
    c->n++;
    c->suppressed += s->hit->suppressed;
    snprintf(c->last, sizeof(c->last), "%.*s|%s|%.*s", (int)s->hit->value_len, s->hit->value,
            s->obs->field, (int)s->event->host_len, s->event->host);
    return 0;
}

typedef struct {
    int n;
    uint64_t line[64];
} pipe_t;

static int on_pipe(const tide_sighting *s, void *payload)
{
    pipe_t *p = payload;
    /* the observed value is the one pushed, not what the caller's buffer holds now */
    if (s->obs->len < 7 || memcmp(s->obs->value, "9.9.9.", 6) != 0)
        return 1;
    if (p->n < 64)
        p->line[p->n] = s->event->line;
    p->n++;
    return 0;
}

/* One sighting per event x indicator; non-simple patterns are confirmed on the event. */
static void t_matcher(void)
{
    TIDE_ASSERT_EQ_INT(tide_store_open(&store, tide_test_tmpdir()), 0);
    seq = 0;
    TIDE_ASSERT_EQ_INT(tide_store_begin(store), 0);
    add_simple("9.9.9.0/24", TIDE_OBS_CIDR4);
    add_simple("8.0.0.0/6", TIDE_OBS_CIDR4); /* 8.0.0.0 - 11.255.255.255, over 10/8 */
    add("7.7.7.7", TIDE_OBS_IPV4, "[ipv4-addr:value = '7.7.7.7' AND ipv4-addr:value != '8.8.8.8']",
            false, 0, 0, false, NULL);
    add("d41d8cd98f00b204e9800998ecf8427e", TIDE_OBS_MD5,
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND file:name = 'evil.exe']",
            false, 0, 0, false, NULL);
    add("x.example", TIDE_OBS_DOMAIN,
            "[domain-name:value = 'x.example' AND domain-name:value LIKE '%.example']", false, 0, 0,
            false, NULL);
    TIDE_ASSERT_EQ_INT(tide_store_commit(store), 0);
    tide_match_index *ix = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_index_build(&ix, store, NULL), 0);
    tide_warninglists *wl = NULL;
    TIDE_ASSERT_EQ_INT(tide_warninglists_new(&wl, store), 0);
    tide_matcher *m = NULL;
    TIDE_ASSERT_EQ_INT(tide_matcher_new(&m, ix, wl), 0);

    /* the CIDR is not private, but the address seen is: that sighting is suppressed */
    tide_observation priv[] = {
        { .kind = TIDE_OBS_IPV4, .value = "10.1.1.1", .len = 8, .field = "dst" },
        { .kind = TIDE_OBS_IPV4, .value = "9.9.9.9", .len = 7, .field = "src" }
    };
    tide_event pev = { .host = "10.0.0.1", .host_len = 8, .line = 1, .obs = priv, .nobs = 2 };
    sight ps = { 0, "", 0 };
    TIDE_ASSERT_EQ_INT(tide_matcher_event(m, "f.log", &pev, on_sighting, &ps), 0);
    TIDE_ASSERT_EQ_INT(ps.n, 2);
    TIDE_ASSERT_EQ_INT(ps.suppressed, 1);

    tide_observation obs[] = {
        { .kind = TIDE_OBS_IPV4, .value = "9.9.9.1", .len = 7, .field = "src" },
        { .kind = TIDE_OBS_IPV4,
                .value = "9.9.9.2",
                .len = 7,
                .field = "dst" }, /* same CIDR again: one sighting */
        { .kind = TIDE_OBS_IPV4, .value = "7.7.7.7", .len = 7, .field = "answer" },
        { .kind = TIDE_OBS_MD5,
                .value = "D41D8CD98F00B204E9800998ECF8427E",
                .len = 32,
                .field = "md5" },
        { .kind = TIDE_OBS_DOMAIN, .value = "X.Example", .len = 9, .field = "query" },
    };
    tide_event ev = { .ts_us = 1700000000000000LL,
        .host = "10.0.0.1",
        .host_len = 8,
        .kind = "conn",
        .line = 3,
        .obs = obs,
        .nobs = 5 };
    sight c = { 0, "", 0 };
    TIDE_ASSERT_EQ_INT(tide_matcher_event(m, "f.log", &ev, on_sighting, &c), 0);
    /* 9.9.9.0/24 once and 8.0.0.0/6 once (both addresses are in both); 7.7.7.7 confirmed;
     * the MD5 pattern needs file:name: rejected; the domain pattern holds on the name in
     * canonical (lower) case */
    TIDE_ASSERT_EQ_INT(c.n, 4);
    /* the same again: the matcher keeps no state across events */
    c.n = 0;
    TIDE_ASSERT_EQ_INT(tide_matcher_event(m, "f.log", &ev, on_sighting, &c), 0);
    TIDE_ASSERT_EQ_INT(c.n, 4);
    /* pipelined: 40 events pushed from one reused buffer (as a reader does), each with a
     * distinct line; reported later, in order, with the event as it was when pushed */
    pipe_t pp = { 0, { 0 } };
    char val[32];
    tide_observation one = { .kind = TIDE_OBS_IPV4, .value = val, .len = 0, .field = "dst" };
    tide_event pe = { .host = "10.0.0.2", .host_len = 8, .kind = "conn", .obs = &one, .nobs = 1 };
    for (int i = 0; i < 40; i++) {
        /* even lines hit 9.9.9.0/24 and 8.0.0.0/6; odd lines miss */
        one.len = (size_t)snprintf(val, sizeof(val), i % 2 ? "1.2.3.%d" : "9.9.9.%d", i);
        pe.line = (uint64_t)i + 1;
        TIDE_ASSERT_EQ_INT(tide_matcher_push(m, "p.log", &pe, on_pipe, &pp), 0);
        strcpy(val, "garbage!"); /* the buffer is reused: the matcher kept its own copy */
    }
    TIDE_ASSERT(pp.n < 40); /* some are still in flight */
    TIDE_ASSERT_EQ_INT(tide_matcher_flush(m), 0);
    TIDE_ASSERT_EQ_INT(pp.n, 40); /* 20 events x 2 CIDRs */
    for (int i = 0; i < 40; i++)
        TIDE_ASSERT_EQ_INT((int)pp.line[i], 2 * (i / 2) + 1);
    TIDE_ASSERT_EQ_INT(tide_matcher_flush(m), 0); /* nothing left */
    TIDE_ASSERT_EQ_INT(pp.n, 40);

    /* a batch: the same sightings as event by event, in event order, all reported before it
     * returns; an event pushed before is reported first */
    pp.n = 0;
    one.len = (size_t)snprintf(val, sizeof(val), "9.9.9.77");
    pe.line = 100;
    TIDE_ASSERT_EQ_INT(tide_matcher_push(m, "p.log", &pe, on_pipe, &pp), 0);
    char bval[40][16];
    tide_observation bobs[40];
    tide_event bev[40];
    for (int i = 0; i < 40; i++) {
        bobs[i] = (tide_observation){ .kind = TIDE_OBS_IPV4, .value = bval[i], .field = "dst" };
        bobs[i].len =
                (size_t)snprintf(bval[i], sizeof(bval[i]), i % 3 ? "1.2.3.%d" : "9.9.9.%d", i);
        bev[i] = (tide_event){ .host = "10.0.0.2",
            .host_len = 8,
            .kind = "conn",
            .line = (uint64_t)i + 101,
            .obs = &bobs[i],
            .nobs = 1 };
    }
    bev[7].nobs = 0; /* an event without observations */
    TIDE_ASSERT_EQ_INT(tide_matcher_batch(m, "p.log", bev, 40, on_pipe, &pp), 0);
    TIDE_ASSERT_EQ_INT(pp.n, 2 + 2 * 14); /* the pushed event, then i = 0, 3, ..., 39 */
    TIDE_ASSERT_EQ_INT((int)pp.line[0], 100);
    TIDE_ASSERT_EQ_INT((int)pp.line[1], 100);
    for (int k = 0; k < 28; k++)
        TIDE_ASSERT_EQ_INT((int)pp.line[2 + k], 101 + 3 * (k / 2));
    /* the event with the confirmed and rejected patterns, in a batch */
    tide_event two[2] = { ev, pev };
    c.n = 0;
    c.suppressed = 0;
    TIDE_ASSERT_EQ_INT(tide_matcher_batch(m, "f.log", two, 2, on_sighting, &c), 0);
    TIDE_ASSERT_EQ_INT(c.n, 4 + 2);
    TIDE_ASSERT_EQ_INT(c.suppressed, 1);
    TIDE_ASSERT_EQ_INT(tide_matcher_batch(m, "f.log", two, 0, on_sighting, &c), 0);
    TIDE_ASSERT_EQ_INT(c.n, 6);

    /* swap: an index without indicators matches nothing; pushed events still in flight are
     * matched against the index of their time */
    pp.n = 0;
    one.len = (size_t)snprintf(val, sizeof(val), "9.9.9.9");
    TIDE_ASSERT_EQ_INT(tide_matcher_push(m, "p.log", &pe, on_pipe, &pp), 0);
    tide_store *empty = NULL;
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/empty", tide_test_tmpdir());
    TIDE_ASSERT_EQ_INT(tide_store_open(&empty, dir), 0);
    tide_match_index *ix2 = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_index_build(&ix2, empty, NULL), 0);
    TIDE_ASSERT(tide_matcher_swap(m, ix2) == ix);
    TIDE_ASSERT_EQ_INT(pp.n, 2);
    TIDE_ASSERT_EQ_INT(tide_matcher_push(m, "p.log", &pe, on_pipe, &pp), 0);
    TIDE_ASSERT_EQ_INT(tide_matcher_flush(m), 0);
    TIDE_ASSERT_EQ_INT(pp.n, 2);
    c.n = 0;
    TIDE_ASSERT_EQ_INT(tide_matcher_event(m, "f.log", &ev, on_sighting, &c), 0);
    TIDE_ASSERT_EQ_INT(c.n, 0);
    tide_matcher_free(m);
    tide_warninglists_free(wl);
    tide_match_index_free(ix);
    tide_match_index_free(ix2);
    tide_store_free(empty);
    tide_store_free(store);
}

typedef struct {
    int n;
    int64_t live, retro, first, last;
    char file[64], observed[64];
} row_t;

static int read_row(const tide_sighting_rec *r, void *payload)
{
    row_t *g = payload;
    g->n++;
    g->live = r->live_count;
    g->retro = r->retro_count;
    g->first = r->first_seen;
    g->last = r->last_seen;
    snprintf(g->file, sizeof(g->file), "%s", r->file ? r->file : "");
    snprintf(g->observed, sizeof(g->observed), "%s", r->observed ? r->observed : "");
    return 0;
}

static int add_to_batch(const tide_sighting *s, void *payload)
{
    return tide_sighting_batch_add(payload, s);
}

/* Aggregated sightings: counts, first / last seen and the first place, merged across
 * flushes; retro counts raise, live counts add. */
static void t_sightings_store(void)
{
    TIDE_ASSERT_EQ_INT(tide_store_open(&store, tide_test_tmpdir()), 0);
    seq = 0;
    char id[64];
    TIDE_ASSERT_EQ_INT(tide_store_begin(store), 0);
    add("evil.example", TIDE_OBS_DOMAIN, NULL, true, 0, 0, false, id);
    TIDE_ASSERT_EQ_INT(tide_store_commit(store), 0);
    tide_match_index *ix = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_index_build(&ix, store, NULL), 0);
    tide_matcher *m = NULL;
    TIDE_ASSERT_EQ_INT(tide_matcher_new(&m, ix, NULL), 0);
    tide_sighting_batch *b = NULL;
    TIDE_ASSERT_EQ_INT(tide_sighting_batch_new(&b), 0);
    tide_observation o = {
        .kind = TIDE_OBS_DOMAIN, .value = "a.evil.example", .len = 14, .field = "query"
    };
    for (int i = 0; i < 5; i++) {
        tide_event ev = { .ts_us = (1700000000LL + 10 * (5 - i)) * 1000000,
            .host = "10.0.0.7",
            .host_len = 8,
            .kind = "dns",
            .line = (uint64_t)(i + 1),
            .obs = &o,
            .nobs = 1 };
        TIDE_ASSERT_EQ_INT(tide_matcher_event(m, "dns.log", &ev, add_to_batch, b), 0);
    }
    TIDE_ASSERT_EQ_INT(tide_sighting_batch_size(b), 1);
    TIDE_ASSERT_EQ_INT(tide_sighting_batch_flush(b, store), 0);
    TIDE_ASSERT_EQ_INT(tide_sighting_batch_size(b), 0);
    /* a second flush of one more, earlier event */
    tide_event ev = { .ts_us = 1600000000LL * 1000000,
        .host = "10.0.0.7",
        .host_len = 8,
        .kind = "dns",
        .line = 99,
        .obs = &o,
        .nobs = 1 };
    TIDE_ASSERT_EQ_INT(tide_matcher_event(m, "old.log", &ev, add_to_batch, b), 0);
    TIDE_ASSERT_EQ_INT(tide_sighting_batch_flush(b, store), 0);
    /* a retro-hunt finds 4 in history: live 6 stays, retro 4 */
    tide_sighting_rec r = { .host = "10.0.0.7",
        .indicator_id = id,
        .indicator = "evil.example",
        .kind = TIDE_OBS_DOMAIN,
        .observed = "a.evil.example",
        .first_seen = 1600000000000LL,
        .last_seen = 1600000000000LL,
        .retro_count = 4 };
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(store, &r, 1), 0);
    r.retro_count = 3; /* a later, narrower hunt does not lower it */
    TIDE_ASSERT_EQ_INT(tide_store_put_sightings(store, &r, 1), 0);
    row_t got = { 0, 0, 0, 0, 0, "", "" };
    tide_sighting_query q = { .host = "10.0.0.7" };
    TIDE_ASSERT_EQ_INT(tide_store_sightings(store, &q, read_row, &got), 0);
    TIDE_ASSERT_EQ_INT(got.n, 1);
    TIDE_ASSERT_EQ_INT(got.live, 6);
    TIDE_ASSERT_EQ_INT(got.retro, 4);
    TIDE_ASSERT_EQ_INT(got.first, 1600000000000LL);
    TIDE_ASSERT_EQ_INT(got.last, 1700000050000LL);
    TIDE_ASSERT_EQ_STR(got.file, "old.log"); /* the earliest sighting's place */
    TIDE_ASSERT_EQ_STR(got.observed, "a.evil.example");
    tide_sighting_query q2 = { .indicator = "EVIL.example" };
    got.n = 0;
    TIDE_ASSERT_EQ_INT(tide_store_sightings(store, &q2, read_row, &got), 0);
    TIDE_ASSERT_EQ_INT(got.n, 1);
    tide_sighting_query q3 = { .host = "10.9.9.9" };
    got.n = 0;
    TIDE_ASSERT_EQ_INT(tide_store_sightings(store, &q3, read_row, &got), 0);
    TIDE_ASSERT_EQ_INT(got.n, 0);
    tide_match_index_free(ix);
    tide_matcher_free(m);
    tide_sighting_batch_free(b);
    tide_store_free(store);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* The word-at-a-time key encodings (hex digits of hashes, lower case of names) agree with a
 * byte-at-a-time reference on random input, valid and corrupted (every byte value). */
static void t_key_encodings(void)
{
    static const char dig[] = "0123456789abcdefABCDEF";
    uint64_t st = 0x9E3779B97F4A7C15ULL;
#define RND() xorshift(&st)
    int rejected = 0;
    for (int it = 0; it < 200000; it++) {
        char v[64];
        for (int i = 0; i < 64; i++)
            v[i] = dig[RND() % 22];
        uint8_t out[IX_MAX_KEY], want[32];
        tide_obs_kind k;
        /* every hash length: MD5, SHA-1, SHA-256 (the digits used are the first 2 * nb) */
        static const struct {
            tide_obs_kind kind;
            int nb;
        } hk[3] = { { TIDE_OBS_MD5, 16 }, { TIDE_OBS_SHA1, 20 }, { TIDE_OBS_SHA256, 32 } };
        int nb = hk[it % 3].nb;
        if (it % 2)
            v[RND() % (2 * (size_t)nb)] = (char)(RND() % 256);
        bool ok = true;
        for (int i = 0; i < nb && ok; i++) {
            int hi = hexval((unsigned char)v[2 * i]), lo = hexval((unsigned char)v[2 * i + 1]);
            ok = hi >= 0 && lo >= 0;
            want[i] = ok ? (uint8_t)(hi << 4 | lo) : 0;
        }
        int n = tide__ix_encode(hk[it % 3].kind, v, 2 * (size_t)nb, out, &k);
        TIDE_ASSERT_EQ_INT(n, ok ? nb : -1);
        if (ok)
            TIDE_ASSERT(memcmp(out, want, (size_t)nb) == 0);
        rejected += !ok;
        size_t len = 1 + RND() % 40;
        for (size_t i = 0; i < len; i++)
            v[i] = (char)(RND() % 256);
        TIDE_ASSERT_EQ_INT(tide__ix_encode(TIDE_OBS_EMAIL, v, len, out, &k), (int)len);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)v[i];
            TIDE_ASSERT_EQ_INT(out[i], (c >= 'A' && c <= 'Z') ? (c | 0x20) : c);
        }
    }
#undef RND
    TIDE_ASSERT(rejected > 90000); /* the corrupted half, but a digit replaced by a digit */
}

static int collect_id(const tide_match_hit *h, void *payload)
{
    snprintf(payload, 128, "%s", h->indicator_id);
    return 0;
}

/* Indicator ids come back exactly as stored: a lower-case UUID is kept as 16 bytes, anything
 * else (upper case, short, long, misplaced dashes, a non-hex digit) as text. */
static void t_ids_as_stored(void)
{
    const char *ids[] = {
        "indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "indicator--0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
        "indicator--short",
        "indicator--",
        "indicator--0a1b2c3d4-e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d5",
        "indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g",
        "indicator--0a1b2c3d-4e5f-4a6b-8c7d",
    };
    size_t n = sizeof(ids) / sizeof(ids[0]);
    TIDE_ASSERT_EQ_INT(tide_store_open(&store, tide_test_tmpdir()), 0);
    TIDE_ASSERT_EQ_INT(tide_store_begin(store), 0);
    for (size_t i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "198.51.100.%zu", i + 1);
        tide_object_rec r = { .id = ids[i],
            .type = "indicator",
            .modified = "2026-01-01T00:00:00Z",
            .json = "{}",
            .json_len = 2,
            .source = "unit" };
        int st;
        TIDE_ASSERT_EQ_INT(tide_store_put_object(store, &r, &st), 0);
        tide_indicator_rec ir = { .id = ids[i],
            .pattern = "[x:y = 'z']",
            .pattern_type = "stix",
            .source = "unit",
            .reliability = 'B',
            .confidence = 90,
            .simple = true };
        tide_obs_ref o = { TIDE_OBS_IPV4, ip };
        TIDE_ASSERT_EQ_INT(tide_store_put_indicator(store, &ir, &o, 1), 0);
    }
    TIDE_ASSERT_EQ_INT(tide_store_commit(store), 0);
    tide_match_index *ix = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_index_build(&ix, store, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        char ip[32], got[128] = "";
        snprintf(ip, sizeof(ip), "198.51.100.%zu", i + 1);
        TIDE_ASSERT_EQ_INT(
                tide_match_lookup(ix, TIDE_OBS_IPV4, ip, strlen(ip), collect_id, got), 0);
        TIDE_ASSERT_EQ_STR(got, ids[i]);
    }
    tide_match_index_free(ix);
    tide_store_free(store);
    store = NULL;
}

/* The URL key as it was encoded byte by byte (the reference for keys.c's fast path). */
static int url_key_ref(const char *v, size_t n, uint8_t *out)
{
    if (n > IX_MAX_KEY - 1)
        return -1;
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < n && i < 16; i++)
        if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/') {
            sep = v + i;
            break;
        }
    if (sep == NULL)
        return -1;
    size_t slen = (size_t)(sep - v);
    size_t o = 0;
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)v[i];
        out[o++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
    }
    memcpy(out + o, "://", 3);
    o += 3;
    const char *h = sep + 3, *end = v + n;
    const char *hend = h;
    while (hend < end && *hend != '/' && *hend != '?' && *hend != '#')
        hend++;
    const char *port = NULL;
    for (const char *p = hend; p > h; p--)
        if (p[-1] == ':') {
            port = p - 1;
            break;
        } else if (p[-1] == ']' || p[-1] == '@') {
            break;
        }
    const char *hostend = port ? port : hend;
    for (const char *p = h; p < hostend; p++) {
        unsigned char c = (unsigned char)*p;
        out[o++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
    }
    if (o > 0 && out[o - 1] == '.')
        o--;
    if (port) {
        size_t plen = (size_t)(hend - port);
        bool dflt = (slen == 4 && memcmp(out, "http", 4) == 0 && plen == 3 &&
                            memcmp(port, ":80", 3) == 0) ||
                    (slen == 5 && memcmp(out, "https", 5) == 0 && plen == 4 &&
                            memcmp(port, ":443", 4) == 0);
        if (!dflt && plen > 1) {
            memcpy(out + o, port, plen);
            o += plen;
        }
    }
    if (hend == end || *hend != '/')
        out[o++] = '/';
    size_t rest = (size_t)(end - hend);
    const char *frag = memchr(hend, '#', rest);
    if (frag)
        rest = (size_t)(frag - hend);
    memcpy(out + o, hend, rest);
    o += rest;
    return (int)o;
}

/* The URL key's fast path (16-byte authority scan, 8-byte lower case) equals the reference on
 * random URLs built from the characters that matter (separators, ports, userinfo, brackets,
 * upper case, dots), of every length around the block sizes. */
static void t_url_key(void)
{
    static const char *const schemes[] = { "http://", "HTTP://", "https://", "hTtPs://", "ftp://",
        "h://", "a://://", "", "http:/", "://", "http://http://", "0123456789abcdef://" };
    static const char *const parts[] = { "a", "B", "Ev", "example", "EXAMPLE", ".", ":", ":80",
        ":443", ":8080", "@", "user:pw@", "[", "]", "[2001:db8::1]", "/", "/x", "?", "?q=A", "#",
        "#f", "-", "_", "9", "%41", "\xff", ".com", "..", "://" };
    uint64_t st = 0x243F6A8885A308D3ULL;
    char v[512];
    uint8_t a[IX_MAX_KEY + 64], b[IX_MAX_KEY + 64];
    for (int it = 0; it < 300000; it++) {
        size_t n = 0;
        const char *sc = schemes[xorshift(&st) % (sizeof(schemes) / sizeof(*schemes))];
        size_t sl = strlen(sc);
        memcpy(v, sc, sl);
        n = sl;
        int np = (int)(xorshift(&st) % 24);
        for (int k = 0; k < np; k++) {
            const char *pt = parts[xorshift(&st) % (sizeof(parts) / sizeof(*parts))];
            size_t pl = strlen(pt);
            if (n + pl >= sizeof(v))
                break;
            memcpy(v + n, pt, pl);
            n += pl;
        }
        if (xorshift(&st) % 8 == 0 && n > 0)
            v[xorshift(&st) % n] = (char)(xorshift(&st) % 256);
        tide_obs_kind k;
        int x = tide__ix_encode(TIDE_OBS_URL, v, n, a, &k), y = url_key_ref(v, n, b);
        TIDE_ASSERT_EQ_INT(x, y);
        if (x > 0)
            TIDE_ASSERT(memcmp(a, b, (size_t)x) == 0);
    }
}

/* The parents of a name (the dots found 8 bytes at a time for names of 8 to 64 bytes) are
 * those of the label walk with memchr, on random names of dots and letters, 1 to 90 bytes. */
static void t_domain_probes(void)
{
    ix_header h;
    memset(&h, 0, sizeof(h));
    h.kind_mask = 1u << TIDE_OBS_DOMAIN;
    uint64_t filt[1] = { 0 };
    tide_match_index ix;
    memset(&ix, 0, sizeof(ix));
    ix.h = &h;
    ix.filter = filt;
    ix.filter_mask = 63;
    uint64_t st = 0x2545F4914F6CDD1DULL;
    for (int it = 0; it < 200000; it++) {
        uint8_t key[96];
        size_t len = 1 + xorshift(&st) % 90;
        for (size_t i = 0; i < len; i++)
            key[i] = xorshift(&st) % 4 == 0 ? '.' : (uint8_t)('a' + xorshift(&st) % 3);
        ix_probe got[128];
        size_t n = tide__ix_probes(&ix, TIDE_OBS_DOMAIN, key, len, got, 128);
        /* the reference: the name, then each suffix after a dot that still holds a dot */
        size_t want_off[128], nw = 0, pos = 0;
        while (pos < len) {
            const uint8_t *dot = memchr(key + pos, '.', len - pos);
            if (dot == NULL && pos > 0)
                break;
            want_off[nw++] = pos;
            if (dot == NULL)
                break;
            pos = (size_t)(dot - key) + 1;
        }
        TIDE_ASSERT_EQ_INT(n, nw);
        for (size_t i = 0; i < n; i++) {
            TIDE_ASSERT(got[i].key == key + want_off[i]);
            TIDE_ASSERT_EQ_INT(got[i].len, len - want_off[i]);
            TIDE_ASSERT(got[i].hash ==
                        tide__ix_hash(TIDE_OBS_DOMAIN, key + want_off[i], len - want_off[i]));
        }
    }
}

/* The matcher's inline domain path (tide__ix_domain_key + tide__ix_domain_probes, names of 8 to
 * 64 bytes without a trailing dot) gives the key and probes of tide__ix_encode +
 * tide__ix_probes, on random names of letters of both cases, digits, dots, '-', '_' and bytes
 * >= 0x80, every length; the key is written only inside [0, n). */
static void t_domain_inline(void)
{
    ix_header h;
    memset(&h, 0, sizeof(h));
    h.kind_mask = 1u << TIDE_OBS_DOMAIN;
    uint64_t filt[1] = { 0 };
    tide_match_index ix;
    memset(&ix, 0, sizeof(ix));
    ix.h = &h;
    ix.filter = filt;
    ix.filter_mask = 63;
    static const char alpha[] = "abcXYZ09.-_.\x80\xc3\xa9.AZaz@[`{";
    uint64_t st = 0x8F1BBCDCCA62C1D6ULL;
    for (int it = 0; it < 300000; it++) {
        char v[80];
        size_t n = 8 + xorshift(&st) % 57;
        for (size_t i = 0; i < n; i++)
            v[i] = alpha[xorshift(&st) % (sizeof(alpha) - 1)];
        if (v[n - 1] == '.')
            v[n - 1] = 'q';
        uint8_t a[IX_MAX_KEY], b[96];
        memset(b, 0xAA, sizeof(b));
        tide_obs_kind k;
        int x = tide__ix_encode(TIDE_OBS_DOMAIN, v, n, a, &k);
        TIDE_ASSERT_EQ_INT(x, (int)n);
        uint64_t dots = tide__ix_domain_key(v, n, b);
        TIDE_ASSERT(memcmp(a, b, n) == 0);
        TIDE_ASSERT(b[n] == 0xAA);
        for (size_t i = 0; i < n; i++)
            TIDE_ASSERT(((dots >> i) & 1) == (v[i] == '.'));
        ix_probe want[128], got[64];
        size_t nw = tide__ix_probes(&ix, TIDE_OBS_DOMAIN, a, n, want, 128);
        size_t ng = tide__ix_domain_probes(&ix, b, n, dots, 7, got);
        TIDE_ASSERT_EQ_INT(ng, nw);
        for (size_t i = 0; i < ng; i++) {
            TIDE_ASSERT_EQ_INT(got[i].key - b, want[i].key - a);
            TIDE_ASSERT_EQ_INT(got[i].len, want[i].len);
            TIDE_ASSERT(got[i].hash == want[i].hash);
            TIDE_ASSERT(got[i].kind == want[i].kind && got[i].op == want[i].op);
            TIDE_ASSERT_EQ_INT(got[i].obs, 7);
        }
    }
}

#ifdef __SSE2__
/* The matcher's inline hash path (tide__ix_hex_probe) gives the key and probe of
 * tide__ix_encode + tide__ix_probes for MD5 / JA3, SHA-1 and SHA-256 digits of both cases, with
 * a byte replaced by anything at times (then neither has a key). */
static void t_hex_inline(void)
{
    ix_header h;
    memset(&h, 0, sizeof(h));
    h.kind_mask =
            1u << TIDE_OBS_MD5 | 1u << TIDE_OBS_JA3 | 1u << TIDE_OBS_SHA1 | 1u << TIDE_OBS_SHA256;
    uint64_t filt[1] = { 0 };
    tide_match_index ix;
    memset(&ix, 0, sizeof(ix));
    ix.h = &h;
    ix.filter = filt;
    ix.filter_mask = 63;
    static const tide_obs_kind kinds[4] = { TIDE_OBS_MD5, TIDE_OBS_JA3, TIDE_OBS_SHA1,
        TIDE_OBS_SHA256 };
    static const size_t wants[4] = { 16, 16, 20, 32 };
    static const char digs[] = "0123456789abcdefABCDEF";
    uint64_t st = 0xA4093822299F31D0ULL;
    int bad = 0;
    for (int it = 0; it < 200000; it++) {
        int w = (int)(xorshift(&st) % 4);
        size_t want = wants[w], n = 2 * want;
        char v[64];
        for (size_t i = 0; i < n; i++)
            v[i] = digs[xorshift(&st) % (sizeof(digs) - 1)];
        if (xorshift(&st) % 4 == 0)
            v[xorshift(&st) % n] = (char)(xorshift(&st) % 256);
        uint8_t a[IX_MAX_KEY], b[40];
        tide_obs_kind k;
        int x = tide__ix_encode(kinds[w], v, n, a, &k);
        ix_probe want_p[4], got;
        bool ok = tide__ix_hex_probe(&ix, kinds[w], v, want, b, 3, &got);
        TIDE_ASSERT_EQ_INT(ok, x > 0);
        if (!ok) {
            bad++;
            continue;
        }
        TIDE_ASSERT_EQ_INT(x, (int)want);
        TIDE_ASSERT(memcmp(a, b, want) == 0);
        size_t nw = tide__ix_probes(&ix, kinds[w], a, want, want_p, 4);
        TIDE_ASSERT_EQ_INT(nw, 1);
        TIDE_ASSERT(got.hash == want_p[0].hash && got.len == want_p[0].len &&
                    got.kind == want_p[0].kind && got.op == want_p[0].op && got.key == b);
        TIDE_ASSERT_EQ_INT(got.obs, 3);
    }
    TIDE_ASSERT(bad > 10000 && bad < 60000);
}
#endif

/* An ip:port the reader parsed carries its key (address, big-endian port) in addr: it equals
 * what tide__ix_encode makes of the text, for random addresses and ports (0 to 99999, some with
 * leading zeros). */
static void t_ipport_key(void)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/ipport.json", tide_test_tmpdir());
    FILE *f = fopen(path, "w");
    TIDE_ASSERT(f != NULL);
    uint64_t st = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 20000; i++) {
        unsigned a = (unsigned)xorshift(&st);
        unsigned port = (unsigned)(xorshift(&st) % 100000);
        char ps[16];
        if (i % 7 == 0) /* a string with a leading zero */
            snprintf(ps, sizeof(ps), "\"0%u\"", port % 10000);
        else
            snprintf(ps, sizeof(ps), "%u", port);
        fprintf(f,
                "{\"event_type\":\"flow\",\"src_ip\":\"10.0.0.1\",\"dest_ip\":"
                "\"%u.%u.%u.%u\",\"dest_port\":%s}\n",
                a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, ps);
    }
    fclose(f);
    tide_tel_reader *r = NULL;
    TIDE_ASSERT_EQ_INT(tide_tel_open(&r, path, NULL), 0);
    tide_event ev;
    int with = 0;
    while (tide_tel_next(r, &ev) > 0)
        for (size_t i = 0; i < ev.nobs; i++) {
            const tide_observation *o = &ev.obs[i];
            if (o->kind != TIDE_OBS_IP_PORT)
                continue;
            uint8_t key[IX_MAX_KEY];
            tide_obs_kind k;
            int n = tide__ix_encode(TIDE_OBS_IP_PORT, o->value, o->len, key, &k);
            if (o->addr_len == 6) {
                TIDE_ASSERT_EQ_INT(n, 6);
                TIDE_ASSERT(memcmp(key, o->addr, 6) == 0);
                with++;
            } else
                TIDE_ASSERT(n < 0); /* a port over 65535: no key either way */
        }
    tide_tel_stats stt;
    tide_tel_reader_stats(r, &stt);
    TIDE_ASSERT_EQ_INT(stt.bad, 0);
    tide_tel_close(r);
    TIDE_ASSERT(with > 10000);
}

typedef struct {
    int n;
    char ids[4][64];
} idhits;

static int collect_ids(const tide_match_hit *h, void *payload)
{
    idhits *c = payload;
    if (c->n < 4)
        snprintf(c->ids[c->n], 64, "%s", h->indicator_id);
    c->n++;
    return 0;
}

/* Issue 18: the index stays within 64 bytes per indicator (SPEC C10 reference workload at
 * 1 M; here 30 000 IPv4 addresses, domains and SHA-256 hashes: 60.6 bytes; 74.0 in the layout
 * before, whose table of 8-byte slots was rounded up to 2^16), counting every byte of the
 * image; and every key still finds exactly its indicators, the ones sharing a key (chained
 * outside the entries) newest first, built or loaded. */
static void t_size_budget(void)
{
    TIDE_ASSERT_EQ_INT(tide_store_open(&store, tide_test_tmpdir()), 0);
    seq = 0;
    enum {
        N = 30000
    };
    static char vals[N][72];
    uint64_t st = 0x5DEECE66DULL;
    TIDE_ASSERT_EQ_INT(tide_store_begin(store), 0);
    for (int i = 0; i < N; i++) {
        uint64_t r = xorshift(&st);
        tide_obs_kind k = i % 3 == 0   ? TIDE_OBS_IPV4
                          : i % 3 == 1 ? TIDE_OBS_DOMAIN
                                       : TIDE_OBS_SHA256;
        if (k == TIDE_OBS_IPV4)
            snprintf(vals[i], sizeof(vals[i]), "%u.%u.%u.%u", 11 + (unsigned)(r >> 8) % 200,
                    (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255, (unsigned)i & 255);
        else if (k == TIDE_OBS_DOMAIN)
            snprintf(vals[i], sizeof(vals[i]), "h%05d.evil.test", i);
        else
            snprintf(vals[i], sizeof(vals[i]), "%016llx%016llx%016llx%016llx",
                    (unsigned long long)r, (unsigned long long)xorshift(&st),
                    (unsigned long long)xorshift(&st), (unsigned long long)i);
        add_simple(vals[i], k);
    }
    char shared[3][64];
    for (int i = 0; i < 3; i++)
        add("shared.evil.test", TIDE_OBS_DOMAIN, NULL, true, 0, 0, false, shared[i]);
    TIDE_ASSERT_EQ_INT(tide_store_commit(store), 0);
    tide_match_index *ix = NULL;
    TIDE_ASSERT_EQ_INT(tide_match_index_build(&ix, store, NULL), 0);
    char path[600];
    snprintf(path, sizeof(path), "%s/budget.idx", tide_test_tmpdir());
    TIDE_ASSERT_EQ_INT(tide_match_index_save(ix, path), 0);
    for (int round = 0; round < 2; round++) {
        tide_match_index_info info;
        tide_match_index_info_get(ix, &info);
        TIDE_ASSERT_EQ_INT(info.indicators, N + 3);
        /* the size reported is the whole image: header and every section, padding included */
        const ix_header *h = ix->h;
        size_t sum = (sizeof(ix_header) + 7) & ~(size_t)7;
        for (int i = 0; i < S__COUNT; i++)
            sum += (h->sec[i].len + 7) & ~(uint64_t)7;
        TIDE_ASSERT_EQ_INT(info.bytes, sum);
        TIDE_ASSERT_EQ_INT(info.bytes, ix->size);
        TIDE_ASSERT(info.bytes <= 64 * info.indicators);
        TIDE_ASSERT_EQ_INT(h->sec[S_ENTRIES].len, 32 * h->nentries);
        TIDE_ASSERT_EQ_INT(h->sec[S_TABLE].len, 4 * h->table_cap);
        TIDE_ASSERT_EQ_INT(h->table_cap, 2 * (N + 3)); /* load 1/2 at any count */
        TIDE_ASSERT_EQ_INT(h->nchain, 2);
        for (int i = 0; i < N; i++) {
            tide_obs_kind k = i % 3 == 0   ? TIDE_OBS_IPV4
                              : i % 3 == 1 ? TIDE_OBS_DOMAIN
                                           : TIDE_OBS_SHA256;
            hits c = look(ix, k, vals[i]);
            TIDE_ASSERT_EQ_INT(c.n, 1);
            TIDE_ASSERT(strcmp(c.values, vals[i]) == 0);
        }
        TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_DOMAIN, "h99999.evil.test").n, 0);
        TIDE_ASSERT_EQ_INT(look(ix, TIDE_OBS_IPV4, "9.9.9.9").n, 0);
        idhits c = { 0, { "" } };
        TIDE_ASSERT_EQ_INT(
                tide_match_lookup(ix, TIDE_OBS_DOMAIN, "www.shared.evil.test", 20, collect_ids, &c),
                0);
        TIDE_ASSERT_EQ_INT(c.n, 3);
        for (int i = 0; i < 3; i++)
            TIDE_ASSERT(strcmp(c.ids[i], shared[2 - i]) == 0);
        tide_match_index_free(ix);
        ix = NULL;
        TIDE_ASSERT_EQ_INT(tide_match_index_load(&ix, path), 0);
    }

    /* a chain that leaves the entries, or an entry flagged chained without a chain record, is
     * refused even when the checksum is right (a file written by a faulty build) */
    for (int bad = 0; bad < 2; bad++) {
        uint8_t *img = malloc(ix->size);
        TIDE_ASSERT(img != NULL);
        memcpy(img, ix->base, ix->size);
        ix_header *h = (ix_header *)(void *)img;
        if (bad == 0) {
            ix_chain *ch = (ix_chain *)(void *)(img + h->sec[S_CHAIN].off);
            ch[0].next = (uint32_t)h->nentries;
        } else {
            ix_entry *e = (ix_entry *)(void *)(img + h->sec[S_ENTRIES].off);
            e[0].flags ^= IX_CHAINED;
        }
        size_t hoff = (sizeof(ix_header) + 7) & ~(size_t)7;
        h->checksum = XXH3_64bits(img + hoff, ix->size - hoff);
        char bpath[700];
        snprintf(bpath, sizeof(bpath), "%s.bad", path);
        FILE *f = fopen(bpath, "wb");
        TIDE_ASSERT(f != NULL);
        TIDE_ASSERT(fwrite(img, 1, ix->size, f) == ix->size);
        fclose(f);
        free(img);
        tide_match_index *ld = NULL;
        TIDE_ASSERT(tide_match_index_load(&ld, bpath) == TIDE_EFORMAT);
        TIDE_ASSERT(ld == NULL);
        TIDE_ASSERT(strstr(tide_error_last(), "chain is corrupt") != NULL);
    }
    tide_match_index_free(ix);
    tide_store_free(store);
}

TIDE_TESTS = {
    { "match::ids_as_stored", t_ids_as_stored },
    { "match::key_encodings", t_key_encodings },
    { "match::url_key", t_url_key },
    { "match::domain_probes", t_domain_probes },
    { "match::domain_inline", t_domain_inline },
#ifdef __SSE2__
    { "match::hex_inline", t_hex_inline },
#endif
    { "match::ipport_key", t_ipport_key },
    { "match::semantics", t_semantics },
    { "match::save_load", t_save_load },
    { "match::size_budget", t_size_budget },
    { "match::matcher", t_matcher },
    { "match::sightings_store", t_sightings_store },
    { NULL, NULL },
};
TIDE_TEST_MAIN
