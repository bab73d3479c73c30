// cases.js - the case list and the case page: attribution with hop confidence, infection
// vector, scope (alerted and silent hosts), tier and why, the plan with every action's evidence
// linked to its sightings, host recovery states an analyst advances, lessons, close and share.
import { api, banner, can, fmtTime, h, q, state, table, tlp } from './lib.js';

const STATES = ['affected', 'contained', 'eradicated', 'recovered', 'verified'];

export async function casesPage(el) {
    el.append(h('h1', {}, 'Cases'));
    const r = await api('/cases');
    el.append(table(['case', 'status', 'tier', 'seed', 'hosts (silent)', 'attribution', 'opened', 'TLP'],
        r.cases.map((c) => [h('a', { href: `#/cases/${c.id}` }, `case ${c.id}`), c.status, String(c.tier), `${c.seed_host} · ${String(c.seed_indicator).slice(0, 40)}`, `${c.hosts} (${c.silent})`,
            [...(c.actors || []), ...(c.campaigns || []), ...(c.malware || [])].join(', '), fmtTime(c.opened_at), tlp(c.tlp)]),
        `no case under your TLP ceiling (key ${state.session.name}, ceiling ${state.session.tlp_max.toUpperCase()})`));
    el.append(h('p', { class: 'muted' }, 'A case is opened from a sighting: on a host timeline, "Open a case".'));
}

// "FILE:LINE TYPE VALUE (...)" -> the sighting's place on the host timeline
function evidenceItem(text, host) {
    const m = /^(\S+:\d+) (\S+) (\S+) (.*)$/.exec(text);
    if (!m) return h('li', {}, text);
    const [, where, type, value, rest] = m;
    const target = host ? `#/host/${q(host)}?indicator=${q(value)}` : `#/search?value=${q(value)}`;
    return h('li', { class: 'evidence-item' }, h('a', { href: target, title: host ? `sightings of ${value} on ${host}` : `lookup and sightings of ${value}` }, `${type} ${value}`), ` ${rest} `, h('span', { class: 'mono muted' }, where));
}

function pathText(p) {
    return (p || []).map((s, i) => `${i ? '' : s.from_name} ${s.direction === '->' ? `-${s.relationship}->` : `<-${s.relationship}-`} ${s.to_name}${s.confidence != null ? ` (${s.confidence})` : ''}`).join(' ');
}

export async function casePage(el, id) {
    let c;
    try { c = await api(`/cases/${id}`); } catch (e) {
        if (e.status === 404) { el.append(h('h1', {}, `Case ${id}`), h('p', { id: 'not-visible' }, `Case ${id} is not visible to your key: there is no such case, or intel it names is above your TLP ceiling (${state.session.tlp_max.toUpperCase()}).`)); return; }
        throw e;
    }
    const writable = can('cases:write');
    const note = writable ? null : h('p', { class: 'muted', id: 'readonly-note' }, `Your key's role (${state.session.role}) cannot change cases: the server refuses such changes.`);
    const msg = h('p', { id: 'case-msg', 'aria-live': 'polite', class: 'muted' });
    const post = async (path, body, what) => {
        try {
            await api(`/cases/${id}${path}`, { method: 'POST', body });
            banner(`${what}: stored.`, 'info');
            const keep = document.activeElement?.id;
            el.replaceChildren();
            await casePage(el, id);
            if (keep) document.getElementById(keep)?.focus();
        } catch (e) {
            banner(e.status === 403 ? `Refused: ${e.message}` : `${what} failed: ${e.message}`);
        }
    };
    el.append(h('h1', {}, `Case ${c.id}: `, h('span', { id: 'case-status' }, c.status), ` · tier ${c.tier} (${c.tier_name}) `, tlp(c.tlp)), ...[note, msg].filter(Boolean),
        h('div', { class: 'cards' },
            h('div', { class: 'card' }, h('div', { class: 'l' }, 'tier and why'), h('div', { id: 'case-rule' }, c.rule)),
            h('div', { class: 'card' }, h('div', { class: 'l' }, 'scope'), h('div', {}, `${c.host_count} hosts: ${c.alerted_count} alerted, ${c.silent_count} silent; ${c.indicator_count} indicators`)),
            h('div', { class: 'card' }, h('div', { class: 'l' }, 'opened / updated / closed'), h('div', {}, `${fmtTime(c.opened_at)} / ${fmtTime(c.updated_at)} / ${fmtTime(c.closed_at)}`)),
            h('div', { class: 'card' }, h('div', { class: 'l' }, 'seed'), h('div', { class: 'mono' }, `${c.seed_host} · ${c.seed_indicator}`))));

    el.append(h('div', { class: 'grid two' },
        h('section', { 'aria-labelledby': 'h-attr' }, h('h2', { id: 'h-attr' }, 'Attribution'),
            table(['name', 'type', 'confidence', 'hops', 'path'], (c.attribution || []).map((a) => [h('a', { href: `#/object/${a.id}` }, a.name), a.type, String(a.confidence ?? '-'), String(a.hops), h('span', { class: 'mono' }, pathText(a.path))]), 'none'),
            (c.campaigns || []).length ? h('p', {}, c.campaigns.map((n) => h('a', { href: `#/graph?campaign=${q(n)}` }, `Campaign graph: ${n}`))) : null),
        h('section', { 'aria-labelledby': 'h-vec' }, h('h2', { id: 'h-vec' }, 'Infection vector'),
            c.infection_vector ? table(['', ''], [['first host', h('a', { href: `#/host/${q(c.infection_vector.host)}` }, c.infection_vector.host)], ['indicator', `${c.infection_vector.type} ${c.infection_vector.indicator}`],
                ['observed', c.infection_vector.observed], ['phase', `${c.infection_vector.phase} (${c.infection_vector.phase_source})`], ['first seen', fmtTime(c.infection_vector.first_seen)], ['evidence', h('span', { class: 'mono' }, c.infection_vector.evidence)], ['why', c.infection_vector.reason]]) : h('p', {}, 'unknown'))));

    // scope: hosts, their status (alerted / silent) and recovery state
    const hostRows = c.hosts.map((x) => {
        const i = STATES.indexOf(x.state);
        const next = STATES.slice(i + 1, 4);
        const sel = h('select', { 'aria-label': `new state of ${x.host}`, id: `state-${x.host}` }, next.map((s) => h('option', { value: s }, s)));
        const noteIn = h('input', { 'aria-label': `note for ${x.host}`, placeholder: 'note', size: 14 });
        const btn = h('button', { type: 'submit', id: `advance-${x.host}` }, 'Set state');
        const f = h('form', { class: 'inline', 'data-host': x.host }, sel, noteIn, btn);
        f.addEventListener('submit', (ev) => { ev.preventDefault(); post(`/hosts/${q(x.host)}`, noteIn.value ? { state: sel.value, note: noteIn.value } : { state: sel.value }, `${x.host} → ${sel.value}`); });
        return [h('a', { href: `#/host/${q(x.host)}` }, x.host), h('span', { class: `badge ${x.status}`, 'data-status': x.status }, x.status), x.seed ? 'seed' : '', h('span', { class: 'host-state', 'data-host': x.host }, x.state), String(x.evidence_count),
            `${fmtTime(x.first_seen)} – ${fmtTime(x.last_seen)}`, next.length && c.status !== 'closed' ? f : h('span', { class: 'muted' }, c.status === 'closed' ? 'case closed' : 'verified by the watch')];
    });
    el.append(h('section', { 'aria-labelledby': 'h-scope', id: 'scope' }, h('h2', { id: 'h-scope' }, `Scope: ${c.alerted_count} alerted, ${c.silent_count} silent hosts`),
        table(['host', 'status', '', 'state', 'evidence', 'seen', 'advance'], hostRows)));

    // the plan, every action's evidence linked to its sightings
    el.append(h('section', { 'aria-labelledby': 'h-plan', id: 'plan' }, h('h2', { id: 'h-plan' }, `Plan (${c.plan.length} actions)`),
        h('ol', { class: 'plan' }, c.plan.map((p) => h('li', { class: 'plan-step' },
            h('strong', {}, p.action), ` · ${p.control}`, p.host ? [' · ', h('a', { href: `#/host/${q(p.host)}` }, p.host)] : '',
            h('div', { class: 'muted' }, p.justification), p.command ? h('div', { class: 'mono' }, p.command) : null,
            p.evidence?.length ? h('ul', { class: 'evidence' }, p.evidence.map((e) => evidenceItem(e, p.host))) : null)))));

    // lessons, close, share
    const lessons = c.lessons;
    const lt = h('textarea', { id: 'lessons-text', rows: 4, cols: 60, 'aria-label': 'lessons (Markdown sections, as tide case lessons reads them)' });
    const lf = h('form', {}, lt, h('p', {}, h('button', { type: 'submit' }, 'Record lessons')));
    lf.addEventListener('submit', (ev) => { ev.preventDefault(); post('/lessons', lt.value, 'lessons'); });
    const cf = h('form', {}, h('button', { type: 'submit', id: 'close-case' }, 'Close the case'));
    cf.addEventListener('submit', (ev) => { ev.preventDefault(); post('/close', {}, 'close'); });
    const share = h('button', { type: 'button', class: 'secondary', id: 'share-case' }, 'Download the share bundle (STIX, TLP:GREEN and below)');
    share.addEventListener('click', async () => {
        try {
            const b = await api(`/cases/${id}/share?tlp_max=green`, { text: true });
            const a = h('a', { href: URL.createObjectURL(new Blob([b], { type: 'application/json' })), download: `case-${id}-share.json` });
            document.body.append(a); a.click(); a.remove();
        } catch (e) { banner(`share: ${e.message}`); }
    });
    el.append(h('div', { class: 'grid' },
        h('section', {}, h('h2', {}, 'Lessons'), lessons ? table(['', ''], Object.entries(lessons).map(([k, v]) => [k.replace(/_/g, ' '), Array.isArray(v) ? h('ul', {}, v.map((x) => h('li', {}, typeof x === 'object' ? `${x.type || ''} ${x.value || JSON.stringify(x)}` : x))) : String(v)])) : h('p', { class: 'muted' }, 'none recorded'),
            c.status !== 'closed' ? lf : null),
        h('section', {}, h('h2', {}, 'Close and share'), c.status !== 'closed' ? cf : h('p', {}, `closed ${fmtTime(c.closed_at)}`), h('p', {}, share)),
        h('section', {}, h('h2', {}, 'Case timeline'), h('ul', { class: 'mono' }, (c.timeline || []).map((t) => h('li', {}, `${fmtTime(t.at)} ${t.kind}${t.actor ? ` (${t.actor})` : ''}: ${t.text}`))))));
}
