/*
 * store_intel.c - the active-intel scan of the store (tide_store_each_indicator_obs): every
 * observable of every current indicator with its context and the names of the campaigns,
 * malware and actors it relates to, which the match index and the exports are built from.
 * Also the intel generation counter that tells a long-running matcher to rebuild.
 *
 * Related names are resolved in memory, not in SQL: the named objects (a few thousand) and
 * one sequential pass over refs give a small graph; a per-row SQL join would cost a B-tree
 * probe per indicator.
 */
#include <stdio.h>
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

typedef struct {
    tide_strmap ids;   /* named object id -> node */
    node *nodes;
    size_t nnodes, capnodes;
    tide_buf names;    /* NUL-terminated names */
    edge *edges;
    size_t nedges, capedges;
    tide_strmap inds;  /* indicator id -> index into ind_first */
    uint32_t *ind_first;
    size_t ninds, capinds;
} graph;

static void graph_free(graph *g)
{
    tide__strmap_free(&g->ids);
    tide__strmap_free(&g->inds);
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

static int load_nodes(tide_store *s, graph *g)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                "SELECT id, type, name FROM objects WHERE is_current AND type IN "
                "('campaign', 'malware', 'tool', 'intrusion-set', 'threat-actor')",
                -1, &st, NULL) != SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        const char *name = (const char *)sqlite3_column_text(st, 2);
        if (id == NULL || type == NULL || name == NULL || *name == '\0')
            continue;
        uint32_t idx;
        int added = tide__strmap_put(&g->ids, id, strlen(id), (uint32_t)g->nnodes, &idx);
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

static int link_indicator(graph *g, const char *ind, uint32_t to)
{
    uint32_t idx;
    int added = tide__strmap_put(&g->inds, ind, strlen(ind), (uint32_t)g->ninds, &idx);
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
    if (sqlite3_prepare_v2(s->db, "SELECT source_ref, target_ref FROM refs", -1, &st, NULL) !=
            SQLITE_OK)
        return tide__store_db_error(s, "prepare");
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *b = (const char *)sqlite3_column_text(st, 1);
        if (a == NULL || b == NULL)
            continue;
        int64_t na = tide__strmap_get(&g->ids, a, strlen(a));
        int64_t nb = tide__strmap_get(&g->ids, b, strlen(b));
        if (na >= 0 && nb >= 0) {
            if ((rc = add_edge(g, &g->nodes[na].adj, (uint32_t)nb)) == 0)
                rc = add_edge(g, &g->nodes[nb].adj, (uint32_t)na);
        } else if (nb >= 0 && strncmp(a, "indicator--", 11) == 0) {
            rc = link_indicator(g, a, (uint32_t)nb);
        } else if (na >= 0 && strncmp(b, "indicator--", 11) == 0) {
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

static int resolve(const graph *g, const char *ind, names *nm)
{
    nm->n[0] = nm->n[1] = nm->n[2] = 0;
    int64_t idx = tide__strmap_get(&g->inds, ind, strlen(ind));
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

int tide_store_each_indicator_obs(tide_store *s, const tide_indicator_filter *f,
        int (*cb)(const tide_indicator_obs *rec, void *payload), void *payload)
{
    graph g = { .ids = TIDE_STRMAP_INIT, .inds = TIDE_STRMAP_INIT, .names = TIDE_BUF_INIT };
    names nm = { 0 };
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = load_nodes(s, &g)) < 0 || (rc = load_edges(s, &g)) < 0)
        goto out;
    tide_buf sql = TIDE_BUF_INIT;
    rc = tide__buf_puts(&sql,
            "SELECT o.id, b.kind, b.value, o.name, o.source, o.tlp, i.kill_chain, i.pattern, "
            "i.pattern_type, i.reliability, i.confidence, i.valid_from, i.valid_until, "
            "i.created, i.modified, o.changed_at, i.simple, i.revoked "
            "FROM observables b JOIN indicators i ON i.obj = b.obj "
            "JOIN objects o ON o.rowid = b.obj WHERE o.is_current");
    if (rc == 0 && f && f->source)
        rc = tide__buf_puts(&sql, " AND o.source = :source");
    if (rc == 0 && f && f->changed_since)
        rc = tide__buf_puts(&sql, " AND o.changed_at >= :since");
    if (rc == 0 && !(f && f->include_revoked))
        rc = tide__buf_puts(&sql, " AND NOT i.revoked");
    if (rc == 0 && f && f->value)
        rc = tide__buf_puts(&sql, " AND o.rowid IN (SELECT obj FROM observables WHERE value = "
                ":value UNION SELECT rowid FROM objects WHERE id = :value AND is_current)");
    if (rc == 0)
        rc = tide__buf_puts(&sql, " ORDER BY b.obj");
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
    char last[256] = "";
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        tide_indicator_obs r = { 0 };
        r.id = col(st, 0);
        r.kind = (tide_obs_kind)sqlite3_column_int(st, 1);
        r.value = col(st, 2);
        if (r.id == NULL || r.value == NULL)
            continue;
        r.name = col(st, 3);
        r.source = col(st, 4);
        r.tlp = col(st, 5);
        r.kill_chain = col(st, 6);
        r.pattern = col(st, 7);
        r.pattern_type = col(st, 8);
        const char *rel = col(st, 9);
        r.reliability = rel ? rel[0] : '\0';
        r.confidence = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 10);
        r.valid_from = sqlite3_column_int64(st, 11);
        r.valid_until = sqlite3_column_int64(st, 12);
        r.created = sqlite3_column_int64(st, 13);
        r.modified = sqlite3_column_int64(st, 14);
        r.changed_at = sqlite3_column_int64(st, 15);
        r.simple = sqlite3_column_int(st, 16) != 0;
        r.revoked = sqlite3_column_int(st, 17) != 0;
        if (strcmp(last, r.id) != 0) {
            if ((rc = resolve(&g, r.id, &nm)) < 0)
                goto out;
            snprintf(last, sizeof(last), "%s", r.id);
        }
        if (f && f->related && !names_have(&nm, f->related))
            continue;
        r.campaigns = nm.v[NODE_CAMPAIGN];
        r.ncampaigns = nm.n[NODE_CAMPAIGN];
        r.malware = nm.v[NODE_MALWARE];
        r.nmalware = nm.n[NODE_MALWARE];
        r.actors = nm.v[NODE_ACTOR];
        r.nactors = nm.n[NODE_ACTOR];
        if ((rc = cb(&r, payload)) != 0)
            goto out;
    }
    rc = step == SQLITE_DONE ? 0 : tide__store_db_error(s, "scan indicators");
out:
    sqlite3_finalize(st);
    for (int i = 0; i < 3; i++)
        tide__free(nm.v[i]);
    graph_free(&g);
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
