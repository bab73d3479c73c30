// graph.js - the campaign graph: intrusion set / actor ↔ campaign ↔ malware ↔ indicators ↔
// hosts, built from the API (the campaign's and its neighbours' relationships, the sightings
// of the campaign: hosts with a live sighting are "alerted", hosts seen only by retro-hunts are
// "silent") and drawn with cytoscape. The model is window.tideGraph for the browser tests; the
// list beside the graph makes every node reachable by keyboard.
import cytoscape from 'cytoscape';
import { api, can, h, q, state, table } from './lib.js';

const LEVEL = { 'threat-actor': 0, 'intrusion-set': 0, campaign: 1, malware: 2, tool: 2, indicator: 3, host: 4 };
const COLOR = { 'threat-actor': '#8250df', 'intrusion-set': '#8250df', campaign: '#1f6feb', malware: '#24292f', tool: '#57606a', indicator: '#8c959f', alerted: '#cf222e', silent: '#bf8700' };

export async function graphPage(el, params) {
    el.append(h('h1', {}, 'Campaign graph'));
    const camps = (await api('/intel/search?type=campaign')).objects;
    const names = [...new Set(camps.map((c) => c.name))].sort();
    if (!names.length) { el.append(h('p', {}, 'No campaign under your TLP ceiling.')); return; }
    const name = params.get('campaign') || names[0];
    const sel = h('select', { id: 'campaign-select', 'aria-label': 'campaign' }, names.map((n) => h('option', { value: n, selected: n === name }, n)));
    sel.addEventListener('change', () => { location.hash = `#/graph?campaign=${q(sel.value)}`; });
    el.append(h('form', { class: 'inline' }, h('label', {}, 'Campaign', sel)),
        h('p', { class: 'legend' }, Object.entries({ 'intrusion set / actor': COLOR['intrusion-set'], campaign: COLOR.campaign, malware: COLOR.malware, indicator: COLOR.indicator, 'alerted host': COLOR.alerted, 'silent host (found by a hunt)': COLOR.silent }).map(([l, c]) => h('span', {}, h('i', { style: `background:${c}` }), l))));

    const nodes = new Map(), edges = new Map();
    const node = (id, type, label, extra = {}) => { if (!nodes.has(id)) nodes.set(id, { id, type, label, level: LEVEL[type] ?? 3, ...extra }); return nodes.get(id); };
    const edge = (s, t, label) => { const id = `${s}|${label}|${t}`; if (!edges.has(id)) edges.set(id, { id, source: s, target: t, label }); };
    const rels = async (id) => { try { return (await api(`/intel/objects/${q(id)}`)).relationships || []; } catch (e) { if (e.status === 404) return []; throw e; } };
    const link = (from, r) => { const src = r.direction === 'out' ? from : r.other_id, dst = r.direction === 'out' ? r.other_id : from; edge(src, dst, r.type); };

    const campIds = camps.filter((c) => c.name === name).map((c) => c.id);
    const upper = [];
    for (const cid of campIds) {
        node(cid, 'campaign', name);
        for (const r of await rels(cid)) {
            if (!(r.other_type in LEVEL)) continue;
            node(r.other_id, r.other_type, r.other_name || r.other_id);
            link(cid, r);
            if (r.other_type === 'malware' || r.other_type === 'tool' || r.other_type === 'intrusion-set') upper.push(r.other_id);
        }
    }
    for (const id of upper) { // malware's indicators, the set's actor
        for (const r of await rels(id)) {
            if (r.other_type === 'indicator' || r.other_type === 'threat-actor' || (r.other_type === 'intrusion-set' && nodes.get(id).type !== 'intrusion-set')) {
                node(r.other_id, r.other_type, r.other_name || r.other_id);
                link(id, r);
            }
        }
    }
    if (can('sightings:read')) {
        const s = (await api(`/sightings?campaign=${q(name)}&limit=10000`)).sightings;
        const hosts = new Map();
        for (const x of s) {
            const hst = hosts.get(x.host) || { live: 0 };
            hst.live += x.live_count;
            hosts.set(x.host, hst);
        }
        for (const [hn, v] of hosts) node(`host:${hn}`, 'host', hn, { status: v.live > 0 ? 'alerted' : 'silent' });
        for (const x of s) {
            if (!nodes.has(x.indicator_id)) { // related by name (another feed): hang it on what it names
                node(x.indicator_id, 'indicator', x.indicator);
                for (const rn of x.related || []) for (const n of nodes.values()) if (n.label === rn.name && n.type === rn.type) edge(x.indicator_id, n.id, 'indicates');
            }
            edge(`host:${x.host}`, x.indicator_id, 'sighted');
        }
    }
    // layered layout: one row per level, indicators grouped under what they indicate
    const parentOf = (id) => [...edges.values()].find((e) => e.source === id && nodes.get(e.target)?.level < 3)?.target || '';
    const rows = [0, 1, 2, 3, 4].map((l) => [...nodes.values()].filter((n) => n.level === l));
    rows[3].sort((a, b) => parentOf(a.id).localeCompare(parentOf(b.id)) || a.label.localeCompare(b.label));
    rows[4].sort((a, b) => a.status.localeCompare(b.status) || a.label.localeCompare(b.label));
    const W = Math.max(900, rows[3].length * 34);
    const pos = {};
    rows.forEach((row, l) => row.forEach((n, i) => {
        const y = l * 160 + (l === 3 ? (i % 2) * 50 : 0);
        pos[n.id] = { x: ((i + 0.5) / row.length) * W, y };
    }));
    const short = (s) => (s.length > 28 ? s.slice(0, 26) + '…' : s);
    const box = h('div', { id: 'cy', role: 'img', 'aria-label': `campaign graph of ${name}: ${nodes.size} nodes, ${edges.size} edges` });
    const info = h('div', { class: 'card side', id: 'graph-info', 'aria-live': 'polite' });
    el.append(h('div', { class: 'graphbox' }, box, info));
    const cy = cytoscape({
        container: box,
        elements: [...[...nodes.values()].map((n) => ({ data: { id: n.id, label: n.level === 3 ? short(n.label) : n.label, full: n.label, type: n.type, status: n.status || '' }, position: pos[n.id] })),
            ...[...edges.values()].filter((e) => nodes.has(e.source) && nodes.has(e.target)).map((e) => ({ data: e }))],
        layout: { name: 'preset', fit: true, padding: 30 },
        style: [
            { selector: 'node', style: { label: 'data(label)', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 4, width: 22, height: 22, 'background-color': (n) => COLOR[n.data('status') || n.data('type')] || '#8c959f', color: '#1b1f24' } },
            { selector: 'node[type = "indicator"]', style: { width: 12, height: 12, 'font-size': 8, 'text-rotation': -0.6, 'text-halign': 'right', 'text-valign': 'center', 'text-margin-x': 4, 'text-margin-y': 0 } },
            { selector: 'node[type = "campaign"], node[type = "intrusion-set"], node[type = "threat-actor"]', style: { width: 34, height: 34, 'font-size': 13, 'font-weight': 'bold', shape: 'round-rectangle' } },
            { selector: 'node[type = "host"]', style: { shape: 'rectangle', width: 26, height: 18 } },
            { selector: 'edge', style: { width: 1, 'line-color': '#c6cdd5', 'curve-style': 'straight', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#c6cdd5', 'arrow-scale': 0.6 } },
            { selector: 'edge[label = "sighted"]', style: { 'line-color': '#ff8182', 'target-arrow-color': '#ff8182' } },
            { selector: ':selected', style: { 'border-width': 3, 'border-color': '#ffb000' } },
        ],
    });
    window.tideGraph = cy;
    const show = (id) => {
        const n = nodes.get(id);
        const nb = cy.getElementById(id).connectedEdges().map((e) => { const d = e.data(); const o = d.source === id ? d.target : d.source; return [d.source === id ? `${d.label} →` : `← ${d.label}`, nodes.get(o)]; });
        info.replaceChildren(h('h2', {}, `${n.type === 'host' ? `${n.status} host` : n.type} ${n.label}`),
            n.type === 'host' ? h('p', {}, h('a', { href: `#/host/${q(n.label)}` }, 'Host timeline')) : h('p', {}, h('a', { href: `#/object/${n.id}` }, 'Object page')),
            table(['', 'node'], nb.map(([l, o]) => [l, h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); select(o.id); } }, `${o.type} ${o.label}`)])));
    };
    const select = (id) => { cy.$(':selected').unselect(); cy.getElementById(id).select(); show(id); };
    cy.on('tap', 'node', (ev) => show(ev.target.id()));
    const by = (t) => [...nodes.values()].filter((n) => t(n));
    info.append(h('h2', {}, 'Nodes'), h('p', { class: 'muted' }, `${nodes.size} nodes, ${cy.edges().length} edges. Select one to see its neighbours.`),
        ...[['Intrusion sets and actors', (n) => n.level === 0], ['Campaign', (n) => n.level === 1], ['Malware', (n) => n.level === 2], ['Alerted hosts', (n) => n.status === 'alerted'], ['Silent hosts', (n) => n.status === 'silent'], ['Indicators', (n) => n.level === 3]].map(([t, f]) =>
            h('details', { open: t !== 'Indicators' }, h('summary', {}, `${t} (${by(f).length})`), h('ul', {}, by(f).map((n) => h('li', {}, h('a', { href: '#', 'data-node': n.id, onclick: (ev) => { ev.preventDefault(); select(n.id); } }, n.label)))))));
    void state;
}
