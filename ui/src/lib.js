// lib.js - what every page shares: the API client (session cookie + CSRF token), the session,
// DOM helpers (text only: nothing from the API is ever parsed as HTML), charts and formats.
import { Chart, registerables } from 'chart.js';

Chart.register(...registerables);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
export { Chart };

export const state = { session: null };

export class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
}

// One call of the JSON API under /api/v1 with the session's cookie; writes carry the CSRF token.
export async function api(path, { method = 'GET', body, text = false } = {}) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && state.session?.csrf) headers['X-CSRF-Token'] = state.session.csrf;
    let payload;
    if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        headers['Content-Type'] = typeof body === 'string' ? 'text/plain' : 'application/json';
    }
    const r = await fetch('/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin' });
    const raw = await r.text();
    let data = null;
    if (!text) { try { data = raw ? JSON.parse(raw) : null; } catch { data = null; } }
    if (!r.ok) {
        if (r.status === 401 && path !== '/session') window.dispatchEvent(new Event('tide-signed-out'));
        throw new ApiError(r.status, (data && data.error) || `${r.status} ${r.statusText}`);
    }
    return text ? raw : data;
}

export const can = (perm) => !!state.session?.permissions?.includes(perm);

// h('a', {href: '#/x', class: 'y'}, 'text', child...)
export function h(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else if (k === 'class') e.className = v;
        else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids.flat(Infinity)) {
        if (k === null || k === undefined || k === false) continue;
        e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
}

export function banner(msg, kind = 'error') {
    const b = document.getElementById('banner');
    if (!msg) { b.hidden = true; b.textContent = ''; return; }
    b.hidden = false;
    b.className = kind === 'info' ? 'info' : '';
    b.textContent = msg;
}

export const tlp = (t) => h('span', { class: `badge tlp-${t || 'none'}`, title: 'TLP' }, `TLP:${(t || 'none').toUpperCase()}`);
export const fmtTime = (t) => (t ? String(t).replace('T', ' ').replace(/(:\d\d)\.\d+Z$|(:\d\d)Z$/, '$1$2') : '-');
export function fmtDur(s) {
    if (s === null || s === undefined) return '-';
    const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return d ? `${d} d ${hh} h` : hh ? `${hh} h ${m} min` : `${m} min`;
}
export const q = encodeURIComponent;

export function table(cols, rows, empty = 'nothing') {
    return h('div', { class: 'tablewrap' }, h('table', {},
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
            : h('tr', {}, h('td', { colspan: cols.length, class: 'muted' }, empty)))));
}

export function chartBox(id, title) {
    const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
    return { el: h('div', { class: 'card' }, h('h2', {}, title), h('div', { class: 'chart' }, canvas)), canvas };
}

// charts of the page on screen, destroyed when the page changes
export const charts = [];
window.tideCharts = charts; // the browser tests read what the charts hold
export function chart(canvas, config) {
    const c = new Chart(canvas, config);
    charts.push(c);
    return c;
}

export const cardN = (n, l) => h('div', { class: 'card' }, h('div', { class: 'n' }, n), h('div', { class: 'l' }, l));
