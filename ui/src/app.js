// app.js - the web UI of tide serve: sign-in, the hash router and the pages (overview, intel
// search and objects, metrics, live sightings here; the campaign graph, cases and host
// timelines in their own modules). Every page reads the JSON API only; what it shows is what
// the key's role and TLP ceiling let the API answer.
import { api, ApiError, banner, can, cardN, chart, chartBox, charts, fmtDur, fmtTime, h, q, state, table, tlp } from './lib.js';
import { graphPage } from './graph.js';
import { casePage, casesPage } from './cases.js';
import { hostPage, hostsPage } from './host.js';

const main = () => document.getElementById('main');
const SIGNED = 'tide.signedIn'; // a hint only (no secret): whether to ask the server for a session

// ---------------- session ----------------

function showSession() {
    const s = state.session;
    document.getElementById('nav').hidden = !s;
    document.getElementById('signout').hidden = !s;
    document.getElementById('who').textContent = s ? `${s.name} · ${s.role} · TLP ceiling ${s.tlp_max.toUpperCase()}` : '';
}

async function restore() {
    if (!localStorage.getItem(SIGNED)) return false;
    try {
        state.session = await api('/session');
        return true;
    } catch (e) {
        localStorage.removeItem(SIGNED);
        if (!(e instanceof ApiError)) throw e;
        return false;
    }
}

function signinPage() {
    const input = h('input', { id: 'key', type: 'password', autocomplete: 'off', required: true, placeholder: 'tide_…' });
    const msg = h('p', { class: 'muted', id: 'signin-msg' }, 'Sign in with an API key (tide keys add NAME --role ROLE --tlp-max LEVEL). The key is exchanged for a session cookie; it is not kept in the browser.');
    const form = h('form', { class: 'card signin', id: 'signin' },
        h('h1', {}, 'Sign in to tide'), msg,
        h('label', { for: 'key' }, 'API key', input), h('p', {}, h('button', { type: 'submit' }, 'Sign in')));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try {
            const r = await fetch('/api/v1/session', { method: 'POST', headers: { Authorization: 'Bearer ' + input.value.trim() }, credentials: 'same-origin' });
            const d = await r.json();
            if (!r.ok) throw new Error(r.status === 401 ? 'That key is not valid (or was revoked).' : d.error);
            input.value = '';
            state.session = d;
            localStorage.setItem(SIGNED, '1');
            showSession();
            location.hash = '#/';
            route();
        } catch (e) {
            msg.textContent = e.message;
            msg.className = 'error';
        }
    });
    main().replaceChildren(form);
    input.focus();
}

async function signOut() {
    try { await api('/session', { method: 'DELETE' }); } catch { /* ended anyway */ }
    state.session = null;
    localStorage.removeItem(SIGNED);
    showSession();
    location.hash = '#/signin';
}

// ---------------- overview ----------------

async function overviewPage(el) {
    el.append(h('h1', {}, 'Overview'));
    const cards = h('div', { class: 'cards', id: 'overview-cards' });
    const grid = h('div', { class: 'grid wide3' });
    el.append(cards, grid);
    const [stats, cases, sightings, targets] = await Promise.all([
        can('stats') ? api('/stats') : null,
        can('cases:read') ? api('/cases') : null,
        can('sightings:read') ? api('/sightings?limit=10000') : null,
        can('export') ? api('/exports/targets') : null,
    ]);
    // under a ceiling below red the API counts by TLP only: the objects by source are then
    // counted from a search (what the key may see)
    let bySource = stats?.by_source;
    if (stats && !bySource && can('intel:read')) {
        const objs = (await api('/intel/search?limit=10000')).objects;
        bySource = {};
        for (const o of objs) bySource[o.source || '(none)'] = (bySource[o.source || '(none)'] || 0) + 1;
    }
    if (stats) {
        if (stats.indicators !== undefined) cards.append(cardN(stats.indicators, 'indicators'), cardN(stats.relationships, 'relationships'));
        cards.append(cardN(Object.values(stats.by_tlp || {}).reduce((a, b) => a + b, 0), `objects under TLP:${state.session.tlp_max.toUpperCase()}`));
    }
    if (cases) cards.append(cardN(cases.cases.filter((c) => c.status !== 'closed').length, 'open cases'), cardN(cases.cases.length, 'cases'));
    if (sightings) {
        const list = sightings.sightings;
        cards.append(cardN(new Set(list.map((s) => s.host)).size, 'hosts with sightings'));
        const days = new Map();
        for (const s of list) {
            const d = (s.first_seen || '').slice(0, 10);
            const v = days.get(d) || { live: 0, retro: 0 };
            if (s.live_count > 0) v.live++; else v.retro++;
            days.set(d, v);
        }
        const keys = [...days.keys()].sort();
        const c = chartBox('chart-sightings', 'Sightings over time (host × indicator, by first seen)');
        grid.append(c.el);
        chart(c.canvas, { type: 'bar', data: { labels: keys, datasets: [
            { label: 'live', data: keys.map((k) => days.get(k).live), backgroundColor: '#cf222e' },
            { label: 'retro (hunts)', data: keys.map((k) => days.get(k).retro), backgroundColor: '#bf8700' }] },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } } });
    }
    if (cases) {
        const open = cases.cases.filter((c) => c.status !== 'closed');
        const c = chartBox('chart-tiers', 'Cases by tier: open and closed');
        grid.append(c.el);
        chart(c.canvas, { type: 'bar', data: { labels: ['tier 1', 'tier 2', 'tier 3'], datasets: [
            { label: 'open', data: [1, 2, 3].map((t) => open.filter((x) => x.tier === t).length), backgroundColor: '#1f6feb' },
            { label: 'closed', data: [1, 2, 3].map((t) => cases.cases.filter((x) => x.tier === t && x.status === 'closed').length), backgroundColor: '#8c959f' }] },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
    }
    if (stats) {
        const src = Object.entries(bySource || {});
        const c1 = chartBox('chart-sources', 'Intel by source (feeds)');
        const tl = Object.entries(stats.by_tlp || {});
        const c2 = chartBox('chart-tlp', 'Intel by TLP');
        grid.append(c1.el, c2.el);
        chart(c1.canvas, { type: 'bar', data: { labels: src.map((x) => x[0]), datasets: [{ label: 'objects', data: src.map((x) => x[1]), backgroundColor: '#1f6feb' }] }, options: { indexAxis: 'y' } });
        const colors = { red: '#cf222e', amber: '#bf8700', 'amber+strict': '#9a6700', green: '#1a7f37', clear: '#d0d7de', white: '#d0d7de', '(none)': '#8c959f' };
        chart(c2.canvas, { type: 'doughnut', data: { labels: tl.map((x) => x[0]), datasets: [{ data: tl.map((x) => x[1]), backgroundColor: tl.map((x) => colors[x[0]] || '#57606a') }] } });
    }
    if (targets) {
        const list = Array.isArray(targets) ? targets : targets.targets || [];
        grid.append(h('div', { class: 'card' }, h('h2', {}, 'Export targets'),
            table(['target', 'format', 'status', 'written'], list.map((t) => [t.name || t.path || '-', t.format || '-', t.status || (t.stale ? 'stale' : 'current'), fmtTime(t.written_at || t.updated || t.last_written)]), 'no export targets declared (tide export --target)')));
    }
    if (!stats && !cases && !sightings) el.append(h('p', { class: 'muted' }, `The key's role (${state.session.role}) reads none of the overview's figures.`));
}

// ---------------- intel search, objects ----------------

function indicatorRow(i) {
    return [h('a', { href: `#/object/${i.id}` }, i.name || i.pattern), i.source, String(i.confidence ?? '-'), String(i.score ?? '-'), i.state || '-', tlp(i.tlp),
        (i.related || []).map((r) => h('span', {}, h('a', { href: `#/search?related=${q(r.name)}` }, r.name), ` (${r.type}) `))];
}

async function searchPage(el, params) {
    const value = params.get('value') || '', related = params.get('related') || '', type = params.get('type') || '', source = params.get('source') || '';
    const f = h('form', { class: 'inline', id: 'search-form', role: 'search' },
        h('label', {}, 'Value (IP, CIDR, domain, URL, hash …)', h('input', { name: 'value', id: 'search-value', value, size: 40 })),
        h('label', {}, 'Related name (campaign, malware, actor)', h('input', { name: 'related', value: related })),
        h('label', {}, 'Type', h('input', { name: 'type', value: type, placeholder: 'indicator', size: 12 })),
        h('label', {}, 'Source', h('input', { name: 'source', value: source, size: 12 })),
        h('button', { type: 'submit' }, 'Search'));
    f.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const p = new URLSearchParams();
        for (const k of ['value', 'related', 'type', 'source']) if (f.elements[k].value.trim()) p.set(k, f.elements[k].value.trim());
        location.hash = '#/search?' + p;
    });
    el.append(h('h1', {}, 'Intel'), f);
    const out = h('div', { id: 'search-results' });
    el.append(out);
    if (value) {
        const r = await api(`/intel/lookup?value=${q(value)}`);
        out.append(h('h2', {}, `${r.kind} ${r.value}: ${r.indicators.length} indicator${r.indicators.length === 1 ? '' : 's'} cover it`),
            h('div', { id: 'lookup-results' }, table(['indicator', 'source', 'confidence', 'score', 'state', 'TLP', 'context'], r.indicators.map(indicatorRow), 'no indicator under your TLP ceiling covers this value')));
        if (can('sightings:read')) {
            const s = await api(`/sightings?indicator=${q(value)}`);
            out.append(h('h2', {}, 'Sightings'), table(['host', 'observed', 'first seen', 'live / retro', 'TLP'], s.sightings.map((x) => [h('a', { href: `#/host/${q(x.host)}` }, x.host), x.observed, fmtTime(x.first_seen), `${x.live_count} / ${x.retro_count}`, tlp(x.tlp)]), 'not seen'));
        }
    } else if (related || type || source) {
        const p = new URLSearchParams();
        if (related) p.set('related', related);
        if (type) p.set('type', type);
        if (source) p.set('source', source);
        const r = await api(`/intel/search?${p}`);
        out.append(h('h2', {}, `${r.objects.length} objects`), table(['name', 'type', 'source', 'modified', 'TLP'], r.objects.map((o) => [h('a', { href: `#/object/${o.id}` }, o.name || o.id), o.type, o.source, fmtTime(o.modified), tlp(o.tlp)]), 'nothing under your TLP ceiling'));
    } else out.append(h('p', { class: 'muted' }, 'Look up a value with match semantics (CIDR containment, parent domains, normalised URLs), or list the objects related to a name.'));
}

async function objectPage(el, id) {
    let r;
    try { r = await api(`/intel/objects/${q(id)}`); } catch (e) {
        if (e.status === 404) { el.append(h('h1', {}, 'Not found'), h('p', { id: 'not-visible' }, `${id}: no such object under your TLP ceiling.`)); return; }
        throw e;
    }
    const o = r.object;
    el.append(h('h1', {}, `${o.type} ${o.name || o.id} `, tlp(r.tlp || o.tlp)));
    const rows = Object.entries(o).filter(([k]) => !['id', 'type', 'spec_version'].includes(k)).map(([k, v]) => [k, h('span', { class: typeof v === 'object' ? 'mono' : '' }, typeof v === 'object' ? JSON.stringify(v) : String(v))]);
    el.append(h('div', { class: 'grid' },
        h('div', {}, h('h2', {}, 'Context'), table(['property', 'value'], [['id', h('span', { class: 'mono' }, o.id)], ...rows])),
        h('div', {}, h('h2', {}, 'Relationships'), table(['relationship', 'other', 'type'], (r.relationships || []).map((x) => [x.direction === 'out' ? `${x.type} →` : `← ${x.type}`, h('a', { href: `#/object/${x.other_id}` }, x.other_name || x.other_id), x.other_type]), 'none you may see'),
            h('h2', {}, 'Versions'), h('ul', {}, (r.versions || []).map((v) => h('li', {}, fmtTime(v)))),
            o.type === 'campaign' ? h('p', {}, h('a', { href: `#/graph?campaign=${q(o.name)}` }, 'Campaign graph of ' + o.name)) : null)));
}

// ---------------- metrics ----------------

async function metricsPage(el) {
    el.append(h('h1', {}, 'Metrics'));
    if (!can('metrics')) { el.append(h('p', { id: 'no-metrics' }, `The key's role (${state.session.role}) cannot read metrics.`)); return; }
    const [m, cl] = await Promise.all([api('/metrics'), can('cases:read') ? api('/cases') : { cases: [] }]);
    const o = m.response.overall;
    el.append(h('div', { class: 'cards' }, cardN(o.cases, 'cases'), cardN(o.open, 'open'), cardN(fmtDur(o.mean_time_to_detect_s), 'mean time to detect'),
        cardN(fmtDur(o.mean_time_to_contain_s), 'mean time to contain'), cardN(fmtDur(o.mean_time_to_recover_s), 'mean time to recover'), cardN(fmtDur(o.mean_dwell_time_s), 'mean dwell time')));
    const opened = new Map(cl.cases.map((c) => [c.id, c.opened_at]));
    const cs = [...m.response.cases].sort((a, b) => String(opened.get(a.case)).localeCompare(String(opened.get(b.case))));
    const hrs = (s) => (s === null || s === undefined ? null : +(s / 3600).toFixed(2));
    const keys = [['time_to_detect_s', 'detect', '#1f6feb'], ['time_to_contain_s', 'contain', '#bf8700'], ['time_to_recover_s', 'recover', '#1a7f37'], ['dwell_time_s', 'dwell', '#cf222e']];
    const grid = h('div', { class: 'grid' });
    el.append(grid);
    const c1 = chartBox('chart-metrics-cases', 'Per case, over time (hours; cases by opening date)');
    const c2 = chartBox('chart-metrics-tiers', 'Mean per tier (hours)');
    grid.append(c1.el, c2.el);
    chart(c1.canvas, { type: 'line', data: { labels: cs.map((c) => `case ${c.case} (${String(opened.get(c.case) || '').slice(0, 10)})`),
        datasets: keys.map(([k, l, col]) => ({ label: `time to ${l}`.replace('time to dwell', 'dwell time'), data: cs.map((c) => hrs(c[k])), borderColor: col, backgroundColor: col })) },
    options: { scales: { y: { beginAtZero: true } } } });
    const tiers = [1, 2, 3];
    const mean = (arr) => (arr.length ? arr.reduce((a, b) => a + b, 0) / arr.length : null);
    chart(c2.canvas, { type: 'bar', data: { labels: tiers.map((t) => `tier ${t}`),
        datasets: keys.map(([k, l, col]) => ({ label: l, data: tiers.map((t) => hrs(mean(cs.filter((c) => c.tier === t && c[k] != null).map((c) => c[k])))), backgroundColor: col })) },
    options: { scales: { y: { beginAtZero: true } } } });
    el.append(h('h2', {}, 'Cases'), table(['case', 'tier', 'status', 'hosts (silent)', 'detect', 'contain', 'recover', 'dwell'],
        cs.map((c) => [h('a', { href: `#/cases/${c.case}` }, `case ${c.case}`), String(c.tier), c.status, `${c.hosts} (${c.silent})`, fmtDur(c.time_to_detect_s), fmtDur(c.time_to_contain_s), fmtDur(c.time_to_recover_s), fmtDur(c.dwell_time_s)])));
}

// ---------------- live sightings ----------------

let stream = null;
function livePage(el) {
    el.append(h('h1', {}, 'Live sightings'));
    if (!can('sightings:read')) { el.append(h('p', {}, `The key's role (${state.session.role}) cannot read sightings.`)); return; }
    const status = h('p', { class: 'muted', id: 'live-status', 'aria-live': 'polite' }, 'connecting…');
    const list = h('tbody', {});
    el.append(status, h('div', { class: 'tablewrap' }, h('table', { class: 'live-list' }, h('thead', {}, h('tr', {}, ['time', 'host', 'observed', 'indicator', 'TLP'].map((c) => h('th', {}, c)))), list)));
    stream = new EventSource('/api/v1/sightings/stream');
    stream.onopen = () => { status.textContent = 'connected: new sightings appear here as match workers store them'; };
    stream.addEventListener('sighting', (ev) => {
        const s = JSON.parse(ev.data);
        list.prepend(h('tr', {}, [fmtTime(s.last_seen || s.ts || s.first_seen), h('a', { href: `#/host/${q(s.host)}` }, s.host), s.observed, s.indicator || s.value || '', tlp(s.tlp)].map((c) => h('td', {}, c))));
        while (list.children.length > 500) list.lastChild.remove();
    });
    stream.addEventListener('lost', () => { status.textContent = 'some sightings were missed (the stream fell behind)'; });
    stream.onerror = () => { status.textContent = 'disconnected; reconnecting…'; };
}

// ---------------- router ----------------

const routes = [
    [/^\/$/, overviewPage, 'Overview'],
    [/^\/search$/, searchPage, 'Intel'],
    [/^\/object\/(.+)$/, objectPage, 'Intel'],
    [/^\/graph$/, graphPage, 'Campaign graph'],
    [/^\/cases$/, casesPage, 'Cases'],
    [/^\/cases\/(\d+)$/, casePage, 'Cases'],
    [/^\/hosts$/, hostsPage, 'Hosts'],
    [/^\/host\/(.+)$/, hostPage, 'Hosts'],
    [/^\/metrics$/, metricsPage, 'Metrics'],
    [/^\/live$/, livePage, 'Live'],
];

let seq = 0;
async function route() {
    const my = ++seq;
    banner(null);
    while (charts.length) charts.pop().destroy();
    if (stream) { stream.close(); stream = null; }
    window.tideGraph = undefined;
    const hash = location.hash.slice(1) || '/';
    const [path, query] = hash.split('?');
    if (!state.session) { signinPage(); return; }
    if (path === '/signin') { location.hash = '#/'; return; }
    const hit = routes.find(([re]) => re.test(path));
    for (const a of document.querySelectorAll('#nav a')) {
        if (hit && a.textContent === hit[2]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    const el = h('div', { id: 'page', 'data-path': path, 'aria-busy': 'true' });
    main().replaceChildren(el);
    document.title = `tide · ${hit ? hit[2] : 'not found'}`;
    try {
        if (!hit) el.append(h('h1', {}, 'No such page'));
        else await hit[1](el, ...(path.match(hit[0]).slice(1).map(decodeURIComponent)), new URLSearchParams(query || ''));
    } catch (e) {
        if (my === seq) banner(e.status === 403 ? `Refused: ${e.message}` : e.message);
    }
    if (my === seq) el.setAttribute('aria-busy', 'false');
}

window.addEventListener('hashchange', route);
window.addEventListener('tide-signed-out', () => {
    if (!state.session) return;
    state.session = null;
    localStorage.removeItem(SIGNED);
    showSession();
    banner('Your session ended (signed out, expired, or the key was revoked): sign in again.', 'info');
    signinPage();
});

async function start() {
    document.getElementById('signout').addEventListener('click', signOut);
    await restore();
    showSession();
    route();
}
start();
