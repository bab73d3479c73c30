/*
 * graph.c - the active-intel scan of the store front (tide_store_each_indicator_obs): every
 * observable of every current indicator with its context and the names of the campaigns,
 * malware and actors it relates to, which the match index and the exports are built from.
 * The backend hands out the indicators (scan), the named objects and the references
 * (graph, or node / edges_of for one key); the walk from an indicator to its names is here,
 * the same for every backend.
 *
 * Related names are resolved in memory: the named objects (a few thousand) and one
 * sequential pass over the references give a small graph; a per-row join in the backend would
 * cost an index probe per indicator. The graph is keyed by the 64-bit id keys the backend
 * gives (sys/store_backend.h, "Keys"), so no id text is read or hashed: a key collision (odds
 * about 1e-8 for a million ids) could only add a related name, never hide or change an
 * indicator.
 *
 * A selective scan (filter.value, or filter.changed_since when the backend says few objects
 * changed: a hunt of a few indicators) does not load the graph: each selected indicator's
 * names are resolved with the backend's node / edges_of of its key, named objects being
 * cached, in the same order and with the same de-duplication as the graph gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/front_int.h"
#include "util/util.h"

enum {
    NODE_CAMPAIGN,
    NODE_MALWARE,
    NODE_ACTOR
};

typedef struct {
    uint32_t name; /* offset in names arena */
    int cls;       /* NODE_* */
    int rank;      /* attribution level: malware / tool 0, campaign 1, intrusion set 2, actor 3 */
    bool up;       /* a neighbour of a higher rank (adjacency loaded, when lazy) */
    uint32_t adj;  /* first edge in edges, UINT32_MAX = none */
} node;

typedef struct {
    uint32_t to;   /* node */
    uint32_t next; /* next edge of the same owner, UINT32_MAX = end */
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
    for (size_t i = (size_t)(k * 0x9E3779B97F4A7C15ULL >> 20) & (m->cap - 1);;
            i = (i + 1) & (m->cap - 1)) {
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
    u64map ids; /* named object id key -> node */
    node *nodes;
    size_t nnodes, capnodes;
    tide_buf names; /* NUL-terminated names */
    edge *edges;
    size_t nedges, capedges;
    u64map inds; /* id key of an object linked to named ones -> index into ind_first */
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

/* Attribution goes up the ranks: malware is used by campaigns, campaigns are attributed to
 * intrusion sets, intrusion sets to threat actors. A walk from an indicator's own named
 * objects follows references to strictly higher ranks only, so it ends (at most 3 steps) and
 * never comes down to a sibling (another group that uses the same tool). */
static int node_rank(const char *type)
{
    if (strcmp(type, "malware") == 0 || strcmp(type, "tool") == 0)
        return 0;
    if (strcmp(type, "campaign") == 0)
        return 1;
    if (strcmp(type, "intrusion-set") == 0)
        return 2;
    return 3;
}

static int node_class(const char *type)
{
    if (strcmp(type, "campaign") == 0)
        return NODE_CAMPAIGN;
    if (strcmp(type, "malware") == 0 || strcmp(type, "tool") == 0)
        return NODE_MALWARE;
    return NODE_ACTOR;
}

/* Whether a node the backend gives takes part in the walk: one with a type and a name. */
static bool usable(const tide_store_node *n)
{
    return n->type != NULL && n->name != NULL && *n->name != '\0';
}

/* Append node n (usable) to g as node number g->nnodes. */
static int append_node(graph *g, const tide_store_node *n)
{
    TIDE_CHECK(grow((void **)&g->nodes, &g->capnodes, g->nnodes + 1, sizeof(node)));
    node *x = &g->nodes[g->nnodes];
    x->name = (uint32_t)g->names.len;
    x->cls = node_class(n->type);
    x->rank = node_rank(n->type);
    x->up = false;
    x->adj = UINT32_MAX;
    TIDE_CHECK(tide__buf_put(&g->names, n->name, strlen(n->name) + 1));
    g->nnodes++;
    return 0;
}

/* graph(): every named object, the first one under a key wins */
static int on_node(const tide_store_node *n, void *payload)
{
    graph *g = payload;
    if (!usable(n))
        return 0;
    uint32_t idx;
    int added = u64map_put(&g->ids, n->key, (uint32_t)g->nnodes, &idx);
    if (added <= 0)
        return added; /* an error, or a second object under the same key */
    return append_node(g, n);
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

/* graph(): every reference; those between named objects are node adjacency (both ways),
 * those from anything else to a named object link that object (an indicator) to it */
static int on_edge(const tide_store_edge *e, void *payload)
{
    graph *g = payload;
    int64_t a = e->source_key, b = e->target_key;
    int64_t na = u64map_get(&g->ids, a), nb = u64map_get(&g->ids, b);
    if (na >= 0 && nb >= 0) {
        g->nodes[na].up |= g->nodes[nb].rank > g->nodes[na].rank;
        g->nodes[nb].up |= g->nodes[na].rank > g->nodes[nb].rank;
        TIDE_CHECK(add_edge(g, &g->nodes[na].adj, (uint32_t)nb));
        return add_edge(g, &g->nodes[nb].adj, (uint32_t)na);
    }
    if (nb >= 0)
        return link_indicator(g, a, (uint32_t)nb); /* indicator (or other object) -> named */
    if (na >= 0)
        return link_indicator(g, b, (uint32_t)na);
    return 0;
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

typedef struct lazy lazy;
static int lazy_adj(lazy *z, uint32_t n);
static int lazy_load_up(lazy *z, uint32_t n);

/* The chain of attribution above the neighbour w of an indicator's named object: every named
 * object reached from w by references to strictly higher ranks (a campaign's intrusion set's
 * threat actor), added to nm. z (selective scans) loads adjacency on first use. */
static int up_walk(graph *g, lazy *z, uint32_t w, names *nm)
{
    if (z)
        TIDE_CHECK(lazy_adj(z, w));
    if (!g->nodes[w].up)
        return 0;
    for (uint32_t f = g->nodes[w].adj; f != UINT32_MAX; f = g->edges[f].next) {
        uint32_t x = g->edges[f].to;
        if (g->nodes[x].rank <= g->nodes[w].rank)
            continue;
        TIDE_CHECK(names_add(g, nm, x));
        TIDE_CHECK(up_walk(g, z, x, nm));
    }
    return 0;
}

/* The chain of attribution above first and above its higher-ranked neighbours. */
static int add_chain(graph *g, lazy *z, uint32_t first, names *nm)
{
    for (uint32_t f = g->nodes[first].adj; f != UINT32_MAX; f = g->edges[f].next) {
        uint32_t w = g->edges[f].to;
        if (g->nodes[w].rank > g->nodes[first].rank)
            TIDE_CHECK(up_walk(g, z, w, nm));
    }
    return 0;
}

/* The names of one named object an indicator links to: itself, its neighbours (one hop either
 * way: a campaign's malware and intrusion set, a malware's campaigns), and the chain of
 * attribution above it and above its higher-ranked neighbours. */
static int add_first(graph *g, lazy *z, uint32_t first, names *nm)
{
    TIDE_CHECK(names_add(g, nm, first));
    for (uint32_t f = g->nodes[first].adj; f != UINT32_MAX; f = g->edges[f].next)
        TIDE_CHECK(names_add(g, nm, g->edges[f].to));
    return g->nodes[first].up ? add_chain(g, z, first, nm) : 0;
}

static int resolve(graph *g, int64_t ind, names *nm)
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
        if (g->nodes[first].up) /* most named objects have no chain above them */
            TIDE_CHECK(add_chain(g, NULL, first, nm));
    }
    return 0;
}

/* The --related rule (store.h): one of the indicator's related names, or its own name. */
bool tide_indicator_related(const tide_indicator_obs *r, const char *name)
{
    if (r == NULL || name == NULL)
        return false;
    for (size_t i = 0; i < r->ncampaigns; i++)
        if (strcasecmp(r->campaigns[i], name) == 0)
            return true;
    for (size_t i = 0; i < r->nmalware; i++)
        if (strcasecmp(r->malware[i], name) == 0)
            return true;
    for (size_t i = 0; i < r->nactors; i++)
        if (strcasecmp(r->actors[i], name) == 0)
            return true;
    return r->name && strcasecmp(r->name, name) == 0;
}

/* ---- selective scans: the graph's answer for one indicator, from the backend's answers
 * for one key ---- */

struct lazy {
    tide_store_backend *be;
    graph g;           /* nodes only (ids: id key -> node, or UINT32_MAX = not named) */
    uint8_t *adj_done; /* per node: adjacency loaded */
    int64_t *nodekey;  /* per node: its id key */
    size_t capdone, capkey;
};

/* node(): the first usable named object under the key */
typedef struct {
    lazy *z;
    int64_t key;
    int64_t found;
} node_find;

static int on_lazy_node(const tide_store_node *n, void *payload)
{
    node_find *nf = payload;
    lazy *z = nf->z;
    if (!usable(n))
        return 0;
    TIDE_CHECK(grow((void **)&z->adj_done, &z->capdone, z->g.nnodes + 1, 1));
    TIDE_CHECK(grow((void **)&z->nodekey, &z->capkey, z->g.nnodes + 1, sizeof(int64_t)));
    z->adj_done[z->g.nnodes] = 0;
    z->nodekey[z->g.nnodes] = nf->key;
    TIDE_CHECK(append_node(&z->g, n));
    nf->found = (int64_t)z->g.nnodes - 1;
    return 1; /* stop: found */
}

/* The node of an id key, loading it on first use; -1 = not a named object. */
static int64_t lazy_node(lazy *z, int64_t key, int *err)
{
    int64_t have = u64map_get(&z->g.ids, key);
    if (have >= 0)
        return have == UINT32_MAX ? -1 : have;
    node_find nf = { z, key, -1 };
    int rc = z->be->node(z->be, key, on_lazy_node, &nf);
    if (rc < 0) {
        *err = rc;
        return -1;
    }
    uint32_t dummy;
    int r = u64map_put(&z->g.ids, key, nf.found < 0 ? UINT32_MAX : (uint32_t)nf.found, &dummy);
    if (r < 0)
        *err = r;
    return nf.found;
}

/* edges_of(): the other ends of the references of a key, in store order */
typedef struct {
    int64_t key;
    int64_t *other;
    size_t n, cap;
} ends;

static int on_lazy_edge(const tide_store_edge *e, void *payload)
{
    ends *x = payload;
    TIDE_CHECK(grow((void **)&x->other, &x->cap, x->n + 2, sizeof(int64_t)));
    if (fix_key(e->source_key) == fix_key(x->key))
        x->other[x->n++] = e->target_key;
    if (fix_key(e->target_key) == fix_key(x->key))
        x->other[x->n++] = e->source_key;
    return 0;
}

/* The named objects at the other end of key's references, as an edge list in graph order:
 * distinct, by first appearance in store order, newest first (the graph prepends). */
static int lazy_edges(lazy *z, int64_t key, uint32_t *head)
{
    ends x = { key, NULL, 0, 0 };
    int rc = z->be->edges_of(z->be, key, on_lazy_edge, &x);
    for (size_t i = 0; rc == 0 && i < x.n; i++) {
        int64_t to = lazy_node(z, x.other[i], &rc);
        if (to >= 0 && rc == 0)
            rc = add_edge(&z->g, head, (uint32_t)to);
    }
    tide__free(x.other);
    return rc;
}

static int lazy_resolve(lazy *z, int64_t ind, names *nm)
{
    nm->n[0] = nm->n[1] = nm->n[2] = 0;
    int rc = 0;
    /* an indicator that is itself a named object links only through named neighbours, as in
     * the graph (where named-named references are node adjacency, not indicator links) */
    if (lazy_node(z, ind, &rc) >= 0 || rc < 0)
        return rc;
    uint32_t head = UINT32_MAX;
    TIDE_CHECK(lazy_edges(z, ind, &head));
    /* load every node first: loading grows the names buffer, so the name pointers handed
     * out by names_add are only taken once nothing more is loaded (the chains above too) */
    for (uint32_t e = head; e != UINT32_MAX; e = z->g.edges[e].next)
        TIDE_CHECK(lazy_load_up(z, z->g.edges[e].to));
    for (uint32_t e = head; e != UINT32_MAX; e = z->g.edges[e].next)
        TIDE_CHECK(add_first(&z->g, z, z->g.edges[e].to, nm));
    return 0;
}

/* Load node n's adjacency, and that of every node up the chain of attribution above it. */
static int lazy_load_up(lazy *z, uint32_t n)
{
    TIDE_CHECK(lazy_adj(z, n));
    for (uint32_t f = z->g.nodes[n].adj; f != UINT32_MAX; f = z->g.edges[f].next) {
        uint32_t w = z->g.edges[f].to;
        if (z->g.nodes[w].rank > z->g.nodes[n].rank)
            TIDE_CHECK(lazy_load_up(z, w));
    }
    return 0;
}

/* Load the adjacency of node n (once). */
static int lazy_adj(lazy *z, uint32_t n)
{
    if (z->adj_done[n])
        return 0;
    uint32_t adj = UINT32_MAX;
    TIDE_CHECK(lazy_edges(z, z->nodekey[n], &adj));
    z->g.nodes[n].adj = adj;
    z->adj_done[n] = 1;
    for (uint32_t f = adj; f != UINT32_MAX; f = z->g.edges[f].next)
        z->g.nodes[n].up |= z->g.nodes[z->g.edges[f].to].rank > z->g.nodes[n].rank;
    return 0;
}

/* ---- the scan ---- */

typedef struct {
    const tide_indicator_filter *f;
    bool selective;
    graph g; /* the whole graph, unless selective */
    lazy z;  /* selective: loaded as the indicators need it */
    names nm;
    int64_t last; /* the key nm holds the names of, when have_last */
    bool have_last;
    int (*cb)(const tide_indicator_obs *rec, void *payload);
    void *payload;
} scan;

/* One indicator from the backend: its names, then one record per observable. */
static int on_row(const tide_store_scan_row *row, void *payload)
{
    scan *sc = payload;
    if (row->nobs == 0 && !(sc->f && sc->f->include_unindexed))
        return 0;
    if (!sc->have_last || row->key != sc->last) {
        sc->have_last = false;
        TIDE_CHECK(sc->selective ? lazy_resolve(&sc->z, row->key, &sc->nm)
                                 : resolve(&sc->g, row->key, &sc->nm));
        sc->last = row->key;
        sc->have_last = true;
    }
    tide_indicator_obs r = row->ind;
    r.campaigns = sc->nm.v[NODE_CAMPAIGN];
    r.ncampaigns = sc->nm.n[NODE_CAMPAIGN];
    r.malware = sc->nm.v[NODE_MALWARE];
    r.nmalware = sc->nm.n[NODE_MALWARE];
    r.actors = sc->nm.v[NODE_ACTOR];
    r.nactors = sc->nm.n[NODE_ACTOR];
    if (sc->f && sc->f->related && !tide_indicator_related(&r, sc->f->related))
        return 0;
    if (row->nobs == 0) { /* include_unindexed: the indicator once, without an observable */
        r.kind = TIDE_OBS_NONE;
        r.value = "";
        return sc->cb(&r, sc->payload);
    }
    for (size_t i = 0; i < row->nobs; i++) {
        r.kind = row->obs[i].kind;
        r.value = row->obs[i].value;
        int rc = sc->cb(&r, sc->payload);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tide_store_each_indicator_obs(tide_store *s, const tide_indicator_filter *f,
        int (*cb)(const tide_indicator_obs *rec, void *payload), void *payload)
{
    if (s == NULL || cb == NULL)
        return tide_error_set(TIDE_EINVAL, "tide_store_each_indicator_obs: no store or callback");
    tide_store_backend *be = s->be;
    scan sc;
    memset(&sc, 0, sizeof(sc));
    sc.f = f;
    sc.cb = cb;
    sc.payload = payload;
    sc.z.be = be;
    /* few rows selected: resolve names per indicator instead of loading the whole graph */
    int rc = 0;
    sc.selective = f && f->value;
    if (f && !f->value && f->changed_since && be->few_changed) {
        bool few = false;
        if ((rc = be->few_changed(be, f->changed_since, &few)) < 0)
            return rc;
        sc.selective = few;
    }
    if (!sc.selective)
        rc = be->graph(be, on_node, on_edge, &sc.g);
    if (rc == 0)
        rc = be->scan(be, f, sc.selective, on_row, &sc);
    for (int i = 0; i < 3; i++)
        tide__free(sc.nm.v[i]);
    graph_free(&sc.g);
    graph_free(&sc.z.g);
    tide__free(sc.z.adj_done);
    tide__free(sc.z.nodekey);
    return rc;
}
