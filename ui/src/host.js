// host.js - hosts and a host's timeline: its live and retro sightings per indicator over time
// (a chart: one row per indicator, a mark from first to last seen), the sightings with their
// evidence, and "Open a case" from a sighting.
import { api, banner, chart, chartBox, fmtTime, h, q, state, table, tlp } from './lib.js';

export async function hostsPage(el) {
    el.append(h('h1', {}, 'Hosts'));
    const s = (await api('/sightings?limit=10000')).sightings;
    const hosts = new Map();
    for (const x of s) {
        const v = hosts.get(x.host) || { n: 0, live: 0, retro: 0, last: '' };
        v.n++; v.live += x.live_count; v.retro += x.retro_count;
        if (x.last_seen > v.last) v.last = x.last_seen;
        hosts.set(x.host, v);
    }
    el.append(table(['host', 'sightings (host × indicator)', 'live', 'retro', 'last seen'], [...hosts].sort((a, b) => b[1].last.localeCompare(a[1].last)).map(([k, v]) => [h('a', { href: `#/host/${q(k)}` }, k), String(v.n), String(v.live), String(v.retro), fmtTime(v.last)]), 'no sightings under your TLP ceiling'));
}

export async function hostPage(el, host, params) {
    const only = params.get('indicator');
    el.append(h('h1', {}, `Host ${host}`));
    const s = (await api(`/sightings?host=${q(host)}&limit=10000`)).sightings;
    if (!s.length) { el.append(h('p', { id: 'no-sightings' }, 'No sightings of this host under your TLP ceiling.')); return; }
    const labels = [...new Set(s.map((x) => `${x.kind} ${x.indicator}`))].sort();
    const t = (v) => Date.parse(v);
    const pts = (pred) => s.filter(pred).flatMap((x) => [{ x: t(x.first_seen), y: `${x.kind} ${x.indicator}`, s: x }, ...(x.last_seen !== x.first_seen ? [{ x: t(x.last_seen), y: `${x.kind} ${x.indicator}`, s: x }] : [])]);
    const c = chartBox('chart-host', `Sightings of ${host} over time: live (found by the match) and retro (found by a hunt over the history)`);
    c.el.querySelector('.chart').style.height = `${Math.max(220, 60 + labels.length * 26)}px`;
    el.append(c.el);
    chart(c.canvas, {
        type: 'scatter',
        data: { datasets: [
            { label: 'live', data: pts((x) => x.live_count > 0), backgroundColor: '#cf222e', pointRadius: 6, pointStyle: 'circle' },
            { label: 'retro only', data: pts((x) => x.live_count === 0), backgroundColor: '#bf8700', pointRadius: 6, pointStyle: 'rectRot' }] },
        options: {
            scales: {
                x: { type: 'linear', ticks: { callback: (v) => new Date(v).toISOString().slice(5, 16).replace('T', ' '), maxTicksLimit: 8 } },
                y: { type: 'category', labels, ticks: { autoSkip: false, font: { size: 11 } } } },
            plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.raw.y} at ${new Date(ctx.raw.x).toISOString()} (${ctx.raw.s.observed})` } } },
        },
    });
    const rows = s.filter((x) => !only || x.indicator === only || x.observed === only || x.indicator_id === only)
        .sort((a, b) => a.first_seen.localeCompare(b.first_seen))
        .map((x) => {
            const b = h('button', { type: 'button', class: 'secondary open-case', 'data-sighting': String(x.id) }, 'Open a case');
            b.addEventListener('click', async () => {
                try {
                    const r = await api('/cases', { method: 'POST', body: { sighting: x.id } });
                    location.hash = `#/cases/${r.id}`;
                } catch (e) { banner(e.status === 403 ? `Refused: ${e.message}` : `open a case: ${e.message}`); }
            });
            return [fmtTime(x.first_seen), fmtTime(x.last_seen), h('a', { href: `#/object/${x.indicator_id}` }, `${x.kind} ${x.indicator}`), x.observed, `${x.live_count} / ${x.retro_count}`,
                h('span', { class: 'mono' }, `${x.file || ''}:${x.line || ''} ${x.field || ''}`), (x.related || []).map((r) => `${r.name} (${r.type})`).join(', '), tlp(x.tlp), b];
        });
    el.append(h('h2', {}, only ? `Sightings of ${only} ` : 'Sightings ', only ? h('a', { href: `#/host/${q(host)}` }, '(show all)') : null),
        h('div', { id: 'host-sightings' }, table(['first seen', 'last seen', 'indicator', 'observed', 'live / retro', 'evidence', 'context', 'TLP', ''], rows)));
    void state;
}
