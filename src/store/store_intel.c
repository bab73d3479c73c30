/*
 * store_intel.c - the active-intel scan of the store (tide_store_each_indicator_obs): every
 * observable of every current indicator with its context and the names of the campaigns,
 * malware and actors it relates to, which the match index and the exports are built from.
 * Also the intel generation counter that tells a long-running matcher to rebuild.
 *
 * Related names are resolved in memory, not in SQL: the named objects (a few thousand) and
 * one sequential pass over refs give a small graph; a per-row SQL join would cost a B-tree
 * probe per indicator. The graph is keyed by the 64-bit id keys the store already holds
 * (objects.id_key, refs.source_key / target_key), so no id text is read or hashed: a key
 * collision (odds about 1e-8 for a million ids) could only add a related name, never hide or
 * change an indicator.
 *
 * A selective scan (filter.value, or filter.changed_since when few objects changed: a hunt of a
 * few indicators) does not load the graph: each selected indicator's names are resolved with indexed queries on
 * refs(source_key) / refs(target_key) and objects_keys(id_key), named objects being cached, in the
 * same order and with the same de-duplication as the graph gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store_int.h"
#include "util/util.h"

enum { NODE_CAMPAIGN, NODE_MALWARE, NODE_ACTOR };

typedef struct {
    uint32_t name;  /* offset in names arena */
    int cls;        /* NODE_* */
    uint32_t adj;   /* first edge in edges, UINT32_MAX = none */
} node;

typedef struct {
    uint32_t to;    /* node */
    uint32_t next;  /* next edge of the same owner, UINT32_MAX = end */
} edge;

/* u64 -> u32 open-addressing map (0 is never a key: a zero key is stored as 1) */
typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n;
} u64map;

static uint64_t fix_key(int64_t k)
{
    return k ? (uint64_t)k : 1;
}

static int64_t u64map_get(const u64map *m, int64_t key)
{
    if (m->cap == 0)
        return -1;
    uint64_t k = fix_key(key);
    for (size_t i = (size_t)(k * 0x9E3779B97F4A7C15ULL >> 20) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k)
            return m->vals[i];
        if (m->keys[i] == 0)
            return -1;
    }
}

/* Insert unless present; *out gets the stored value. Returns 1 when inserted. */
static int u64map_put(u64map *m, int64_t key, uint32_t val, uint32_t *out)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        uint64_t *k = tide__calloc(cap, sizeof(*k));
        uint32_t *v = tide__malloc(cap * sizeof(*v));
        if (k == NULL || v == NULL) {
            tide__free(k);
            tide__free(v);
            return tide_error_set(TIDE_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->keys[i] == 0)
                continue;
            size_t j = (size_t)(m->keys[i] * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
            while (k[j])
                j = (j + 1) & (cap - 1);
            k[j] = m->keys[i];
            v[j] = m->vals[i];
        }
        tide__free(m->keys);
        tide__free(m->vals);
        m->keys = k;
        m->vals = v;
        m->cap = cap;
    }
    uint64_t k = fix_key(key);
    size_t i = (size_t)(k * 0x9E3779B97F4A7C15ULL >> 20) & (m->cap - 1);
    for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == k) {
            *out = m->vals[i];
            return 0;
        }
    m->keys[i] = k;
    m->vals[i] = val;
    m->n++;
    *out = val;
    return 1;
}

static void u64map_free(u64map *m)
{
    tide__free(m->keys);
    tide__free(m->vals);
}

typedef struct {
    u64map ids;        /* named object id key -> node */
    node *nodes;
    size_t nnodes, capnodes;
    tide_buf names;    /* NUL-terminated names */
    edge *edges;
    size_t nedges, capedges;
    u64map inds;       /* id key of an object linked to named ones -> index into ind_first */
    uint32_t *ind_first;
    size_t ninds, capinds;
} graph;

static void graph_free(graph *g)
{
    u64map_free(&g->ids);
    u64map_free(&g->inds);
    tide__free(g->nodes);
    tide__free(g->edges);
    tide__free(g->ind_first);
    tide__buf_free(&g->names);
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    while (c < need)
        c *= 2;
    void *p = tide__realloc(*arr, c * size);
    TIDE_CHECK_ALLOC(p);
    *arr = p;
    *cap = c;
    return 0;
}

static int add_edge(graph *g, uint32_t *head, uint32_t to)
{
    for (uint32_t e = *head; e != UINT32_MAX; e = g->edges[e].next)
        if (g->edges[e].to == to)
            return 0;
    TIDE_CHECK(grow((void **)&g->edges, &g->capedges, g->nedges + 1, sizeof(edge)));
    g->edges[g->nedges] = (edge){ to, *head };
    *head = (uint32_t)g->nedges++;
    return 0;
}

static int node_class(const char *type)
{
    if (strcmp(type, "campaign") == 0)
        return NODE_CAMPAIGN;
    if (strcmp(type, "malware") == 0 || strcmp(type, "tool") == 0)
        return NODE_MALWARE;
    return NODE_ACTOR;
}

/* The named objects a scan reports indicators against. The condition of objects_sdo is said,
 * so that its index serves (schema 9): without it SQLite scanned every current object, a
 * second more of each match index build over a million indicators (a test checks the plan). */
const char tide__store_named_nodes_sql[] =
        "SELECT id_key, type, name FROM objects WHERE is_current AND "
        "type NOT IN ('indicator', 'relationship') AND type IN "
        "('campaign', 'malware', 'tool', 'intrusion-set', 'threat-actor')";

static int load_nodes(tide_store *s, graph *g)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, tide__store_named_nodes_sql, -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t key = sqlite3_column_int64(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        const char *name = (const char *)sqlite3_column_text(st, 2);
        if (type == NULL || name == NULL || *name == '\0')
            continue;
        uint32_t idx;
        int added = u64map_put(&g->ids, key, (uint32_t)g->nnodes, &idx);
        if ((rc = added) < 0 || added == 0)
            break;
        if ((rc = grow((void **)&g->nodes, &g->capnodes, g->nnodes + 1, sizeof(node))) < 0)
            break;
        node *n = &g->nodes[g->nnodes++];
        n->name = (uint32_t)g->names.len;
        n->cls = node_class(type);
        n->adj = UINT32_MAX;
        if ((rc = tide__buf_put(&g->names, name, strlen(name) + 1)) < 0)
            break;
        rc = 0;
    }
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = tide__store_db_error(s, "read named objects");
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

static int link_indicator(graph *g, int64_t ind, uint32_t to)
{
    uint32_t idx;
    int added = u64map_put(&g->inds, ind, (uint32_t)g->ninds, &idx);
    TIDE_CHECK(added);
    if (added) {
        TIDE_CHECK(grow((void **)&g->ind_first, &g->capinds, g->ninds + 1, sizeof(uint32_t)));
        g->ind_first[g->ninds++] = UINT32_MAX;
    }
    return add_edge(g, &g->ind_first[idx], to);
}

static int load_edges(tide_store *s, graph *g)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT source_key, target_key FROM refs", -1, &st, NULL) !=
            SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t a = sqlite3_column_int64(st, 0), b = sqlite3_column_int64(st, 1);
        int64_t na = u64map_get(&g->ids, a), nb = u64map_get(&g->ids, b);
        if (na >= 0 && nb >= 0) {
            if ((rc = add_edge(g, &g->nodes[na].adj, (uint32_t)nb)) == 0)
                rc = add_edge(g, &g->nodes[nb].adj, (uint32_t)na);
        } else if (nb >= 0) {
            rc = link_indicator(g, a, (uint32_t)nb); /* indicator (or other object) -> named */
        } else if (na >= 0) {
            rc = link_indicator(g, b, (uint32_t)na);
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read relationships");
    sqlite3_finalize(st);
    return rc;
}

/* Names related to one indicator, by class, without duplicates. */
typedef struct {
    const char **v[3];
    size_t n[3], cap[3];
} names;

static int names_add(const graph *g, names *nm, uint32_t nodei)
{
    const node *n = &g->nodes[nodei];
    const char *name = g->names.ptr + n->name;
    int c = n->cls;
    for (size_t i = 0; i < nm->n[c]; i++)
        if (strcmp(nm->v[c][i], name) == 0)
            return 0;
    TIDE_CHECK(grow((void **)&nm->v[c], &nm->cap[c], nm->n[c] + 1, sizeof(char *)));
    nm->v[c][nm->n[c]++] = name;
    return 0;
}

static int resolve(const graph *g, int64_t ind, names *nm)
{
    nm->n[0] = nm->n[1] = nm->n[2] = 0;
    int64_t idx = u64map_get(&g->inds, ind);
    if (idx < 0)
        return 0;
    for (uint32_t e = g->ind_first[idx]; e != UINT32_MAX; e = g->edges[e].next) {
        uint32_t first = g->edges[e].to;
        TIDE_CHECK(names_add(g, nm, first));
        for (uint32_t f = g->nodes[first].adj; f != UINT32_MAX; f = g->edges[f].next)
            TIDE_CHECK(names_add(g, nm, g->edges[f].to));
    }
    return 0;
}

/* Whether one of the resolved names is name (case-insensitive): the --related filter. */
static bool names_have(const names *nm, const char *name)
{
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < nm->n[c]; i++)
            if (strcasecmp(nm->v[c][i], name) == 0)
                return true;
    return false;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* ---- selective scans: the graph's answer for one indicator, from indexed queries ---- */

typedef struct {
    graph g;            /* nodes only (ids: id key -> node, or UINT32_MAX = not named) */
    sqlite3_stmt *refs; /* rowid, other end of the refs of a key */
    sqlite3_stmt *obj;  /* type, name of a current object by id key */
    uint8_t *adj_done;  /* per node: adjacency loaded */
    int64_t *nodekey;   /* per node: its id key */
    size_t capdone, capkey;
} lazy;

typedef struct {
    int64_t rowid, other;
} ref_row;

static int cmp_ref_row(const void *a, const void *b)
{
    const ref_row *x = a, *y = b;
    return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/* The node of an id key, loading it on first use; -1 = not a named object. */
static int64_t lazy_node(tide_store *s, lazy *z, int64_t key, int *err)
{
    int64_t have = u64map_get(&z->g.ids, key);
    if (have >= 0)
        return have == UINT32_MAX ? -1 : have;
    sqlite3_stmt *st = z->obj;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, key);
    int64_t found = -1;
    int step;
    /* as load_nodes: the first current named object under this key */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = col(st, 0), *name = col(st, 1);
        if (type == NULL || name == NULL || *name == '\0')
            continue;
        if ((*err = grow((void **)&z->g.nodes, &z->g.capnodes, z->g.nnodes + 1, sizeof(node))) < 0 ||
                (*err = grow((void **)&z->adj_done, &z->capdone, z->g.nnodes + 1, 1)) < 0 ||
                (*err = grow((void **)&z->nodekey, &z->capkey, z->g.nnodes + 1, sizeof(int64_t))) < 0)
            return -1;
        node *n = &z->g.nodes[z->g.nnodes];
        n->name = (uint32_t)z->g.names.len;
        n->cls = node_class(type);
        n->adj = UINT32_MAX;
        z->adj_done[z->g.nnodes] = 0;
        z->nodekey[z->g.nnodes] = key;
        if ((*err = tide__buf_put(&z->g.names, name, strlen(name) + 1)) < 0)
            return -1;
        found = (int64_t)z->g.nnodes++;
        break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        *err = tide__store_db_error(s, "read named object");
        return -1;
    }
    sqlite3_reset(st);
    uint32_t dummy;
    int r = u64map_put(&z->g.ids, key, found < 0 ? UINT32_MAX : (uint32_t)found, &dummy);
    if (r < 0)
        *err = r;
    return found;
}

/* The named objects at the other end of key's refs, as an edge list in graph order: distinct,
 * by first appearance in refs (rowid order), newest first (the graph prepends). */
static int lazy_edges(tide_store *s, lazy *z, int64_t key, uint32_t *head)
{
    sqlite3_stmt *st = z->refs;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, key);
    ref_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t a = sqlite3_column_int64(st, 1), b = sqlite3_column_int64(st, 2);
        if ((rc = grow((void **)&rows, &cap, n + 2, sizeof(ref_row))) < 0)
            break;
        int64_t id = sqlite3_column_int64(st, 0);
        if (fix_key(a) == fix_key(key))
            rows[n++] = (ref_row){ id, b };
        if (fix_key(b) == fix_key(key))
            rows[n++] = (ref_row){ id, a };
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = tide__store_db_error(s, "read relationships");
    sqlite3_reset(st);
    if (n > 1)
        qsort(rows, n, sizeof(ref_row), cmp_ref_row);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int64_t to = lazy_node(s, z, rows[i].other, &rc);
        if (to >= 0 && rc == 0)
            rc = add_edge(&z->g, head, (uint32_t)to);
    }
    tide__free(rows);
    return rc;
}

static int lazy_resolve(tide_store *s, lazy *z, int64_t ind, names *nm)
{
    nm->n[0] = nm->n[1] = nm->n[2] = 0;
    int rc = 0;
    /* an indicator that is itself a named object links only through named neighbours, as in
     * the graph (where named-named refs are node adjacency, not indicator links) */
    if (lazy_node(s, z, ind, &rc) >= 0 || rc < 0)
        return rc;
    uint32_t head = UINT32_MAX;
    TIDE_CHECK(lazy_edges(s, z, ind, &head));
    /* load every node first: loading grows the names buffer, so the name pointers handed
     * out by names_add are only taken once nothing more is loaded */
    for (uint32_t e = head; e != UINT32_MAX; e = z->g.edges[e].next) {
        uint32_t first = z->g.edges[e].to;
        if (!z->adj_done[first]) {
            uint32_t adj = UINT32_MAX;
            TIDE_CHECK(lazy_edges(s, z, z->nodekey[first], &adj));
            z->g.nodes[first].adj = adj;
            z->adj_done[first] = 1;
        }
    }
    for (uint32_t e = head; e != UINT32_MAX; e = z->g.edges[e].next) {
        uint32_t first = z->g.edges[e].to;
        TIDE_CHECK(names_add(&z->g, nm, first));
        for (uint32_t f = z->g.nodes[first].adj; f != UINT32_MAX; f = z->g.edges[f].next)
            TIDE_CHECK(names_add(&z->g, nm, z->g.edges[f].to));
    }
    return 0;
}

/* Whether few enough objects changed since T for the per-indicator queries of a selective
 * scan (about three B-tree probes per indicator) to beat loading the graph (one pass over
 * refs): 1 yes, 0 no, < 0 error. The hunt after a first load of a million indicators selects
 * them all, where the probes would take half a minute and the graph well under a second. */
static int few_changed(tide_store *s, int64_t since)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                "WITH c(cap) AS (SELECT 1024 + coalesce(max(rowid), 0) / 8 FROM refs) "
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM objects INDEXED BY objects_changed "
                "WHERE is_current AND changed_at >= ?1 LIMIT (SELECT cap FROM c))) < cap FROM c",
                -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    sqlite3_bind_int64(st, 1, since);
    int step = sqlite3_step(st);
    int few = step == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW)
        return tide__store_db_error(s, "count changed objects");
    return few;
}

int tide_store_each_indicator_obs(tide_store *s, const tide_indicator_filter *f,
        int (*cb)(const tide_indicator_obs *rec, void *payload), void *payload)
{
    graph g;
    memset(&g, 0, sizeof(g));
    lazy z;
    memset(&z, 0, sizeof(z));
    names nm = { 0 };
    tide_buf val = TIDE_BUF_INIT; /* the current observable's value */
    sqlite3_stmt *st = NULL;
    int rc = 0;
    bool small_cache = false;
    /* few rows selected: resolve names per indicator instead of loading the whole graph */
    bool selective = f && f->value;
    if (f && !f->value && f->changed_since && (rc = few_changed(s, f->changed_since)) != 0) {
        if (rc < 0)
            return rc;
        selective = true;
        rc = 0;
    }
    if (selective) {
        if (sqlite3_prepare_v2(s->db,
                    "SELECT rowid, source_key, target_key FROM refs WHERE source_key = ?1 "
                    "UNION ALL SELECT rowid, source_key, target_key FROM refs "
                    "WHERE target_key = ?1 AND source_key <> ?1",
                    -1, &z.refs, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(s->db,
                        "SELECT o.type, o.name FROM objects_keys k JOIN objects o "
                        "ON o.rowid = k.obj WHERE k.id_key = ?1 AND o.is_current AND "
                        "o.type IN ('campaign', 'malware', 'tool', 'intrusion-set', "
                        "'threat-actor') ORDER BY o.rowid",
                        -1, &z.obj, NULL) != SQLITE_OK)
            rc = tide__store_db_error(s, "prepare");
    } else {
        /* every indicator is read once: a small page cache (restored at the end) */
        if ((rc = tide__store_exec(s, "PRAGMA cache_size = " SCAN_CACHE)) == 0)
            small_cache = true;
        if (rc == 0 && (rc = load_nodes(s, &g)) == 0)
            rc = load_edges(s, &g);
    }
    if (rc < 0)
        goto out;
    tide_buf sql = TIDE_BUF_INIT;
    /* one row per indicator: its packed record (schema 7) and its observables (packed in
     * i.obs), which give one record each */
    static const char cols[] = "SELECT i.rec, i.obs ";
    rc = tide__buf_puts(&sql, cols);
    if (rc == 0)
        rc = tide__buf_puts(&sql, selective
                /* driven by the selected objects */
                ? (f->value ? "FROM objects o CROSS JOIN indicators i ON i.obj = o.rowid "
                              "WHERE o.is_current"
                            /* the objects changed since T, by their index */
                            : "FROM objects o INDEXED BY objects_changed CROSS JOIN indicators i "
                              "ON i.obj = o.rowid WHERE o.is_current")
                /* every indicator, in store order: its row alone has all the scan needs
                 * (schema 7), and only current versions have one */
                : "FROM indicators i WHERE 1");
    if (rc == 0 && f && f->source)
        rc = tide__buf_puts(&sql, " AND i.source = :source");
    if (rc == 0 && f && f->changed_since) /* the objects_changed range when selective */
        rc = tide__buf_puts(&sql, selective ? " AND o.changed_at >= :since"
                                            : " AND i.changed_at >= :since");
    if (rc == 0 && !(f && f->include_revoked))
        rc = tide__buf_puts(&sql, " AND NOT i.revoked");
    if (rc == 0 && f && f->value) {
        /* the (kind, vkey) index: every kind, the value's key, then the value itself */
        rc = tide__buf_puts(&sql, " AND o.rowid IN (SELECT obj FROM obs_idx WHERE kind IN (");
        for (int k = 1; rc == 0 && k < TIDE_OBS__COUNT; k++)
            rc = tide__buf_printf(&sql, "%s%d", k > 1 ? "," : "", k);
        if (rc == 0)
            rc = tide__buf_puts(&sql, ") AND vkey = tide_key(:value) AND value = :value "
                    "UNION SELECT k.obj FROM objects_keys k JOIN objects x ON x.rowid = k.obj "
                    "WHERE k.id_key = tide_key(:value) AND x.id = :value AND x.is_current)");
    }
    /* store (rowid) order, no sort: an indicator's observables come out consecutively */
    if (rc < 0) {
        tide__buf_free(&sql);
        goto out;
    }
    if (sqlite3_prepare_v2(s->db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
        tide__buf_free(&sql);
        rc = tide__store_db_error(s, "prepare");
        goto out;
    }
    tide__buf_free(&sql);
    if (f && f->source)
        tide__store_bind_text(st, sqlite3_bind_parameter_index(st, ":source"), f->source);
    if (f && f->changed_since)
        sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), f->changed_since);
    if (f && f->value)
        tide__store_bind_text(st, sqlite3_bind_parameter_index(st, ":value"), f->value);
    int64_t last = 0;
    bool have_last = false;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide__ind_rec ir;
        if ((rc = tide__store_ind_unpack(sqlite3_column_blob(st, 0),
                     (size_t)sqlite3_column_bytes(st, 0), &ir)) < 0)
            goto out;
        const char *p = col(st, 1);
        if (p == NULL)
            continue;
        const char *end = p + sqlite3_column_bytes(st, 1);
        tide_indicator_obs r = {
            .id = ir.id, .name = ir.name, .source = ir.source, .tlp = ir.tlp,
            .kill_chain = ir.kill_chain, .pattern = ir.pattern, .pattern_type = ir.pattern_type,
            .reliability = ir.reliability ? ir.reliability[0] : '\0',
            .confidence = ir.confidence_null ? -1 : (int)ir.confidence,
            .valid_from = ir.valid_from, .valid_until = ir.valid_until, .created = ir.created,
            .modified = ir.modified, .changed_at = ir.changed_at, .simple = ir.simple,
            .revoked = ir.revoked,
        };
        int64_t key = ir.id_key;
        if (!have_last || key != last) {
            if ((rc = selective ? lazy_resolve(s, &z, key, &nm) : resolve(&g, key, &nm)) < 0)
                goto out;
            last = key;
            have_last = true;
        }
        if (f && f->related && !names_have(&nm, f->related))
            continue;
        r.campaigns = nm.v[NODE_CAMPAIGN];
        r.ncampaigns = nm.n[NODE_CAMPAIGN];
        r.malware = nm.v[NODE_MALWARE];
        r.nmalware = nm.n[NODE_MALWARE];
        r.actors = nm.v[NODE_ACTOR];
        r.nactors = nm.n[NODE_ACTOR];
        int more;
        while ((more = tide__store_obs_next(&p, end, &r.kind, &val)) == 1) {
            r.value = val.ptr;
            if ((rc = cb(&r, payload)) != 0)
                goto out;
        }
        if ((rc = more) < 0)
            goto out;
    }
    rc = step == SQLITE_DONE ? 0 : tide__store_db_error(s, "scan indicators");
out:
    tide__buf_free(&val);
    sqlite3_finalize(st);
    sqlite3_finalize(z.refs);
    sqlite3_finalize(z.obj);
    if (small_cache) {
        int crc = tide__store_exec(s, "PRAGMA cache_size = " STORE_CACHE);
        if (rc == 0)
            rc = crc;
    }
    for (int i = 0; i < 3; i++)
        tide__free(nm.v[i]);
    graph_free(&g);
    graph_free(&z.g);
    tide__free(z.adj_done);
    tide__free(z.nodekey);
    return rc;
}

int tide_store_intel_generation(tide_store *s, int64_t *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'intel_gen'", -1, &st,
                NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int step = sqlite3_step(st);
    *out = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return tide__store_db_error(s, "read intel generation");
    return 0;
}
