// webui.test.mjs - the web UI in Debian's chromium (headless), driven by puppeteer-core,
// against `tide serve` loaded with the demo scenario (tests/integration/webui.sh starts it and
// passes TIDE_URL, the keys, TIDE_BIN / TIDE_STORE and TIDE_SHOTS). Every check reads what the
// page shows (or the model of its graph / charts) and compares it with what the API answers to
// a key of its own, so a page that shows nothing, or too much, fails. No console error may
// appear on any page, except the refusals the reader's steps provoke on purpose.
import puppeteer from 'puppeteer-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const URL0 = process.env.TIDE_URL;
const ANALYST = process.env.TIDE_ANALYST_KEY, READER = process.env.TIDE_READER_KEY;
const SHOTS = process.env.TIDE_SHOTS || '/tmp/tide-ui-shots';
mkdirSync(SHOTS, { recursive: true });

let pass = 0, fail = 0;
function check(name, ok, detail = '') {
    if (ok) { pass++; console.log(`ok   ${name}`); } else { fail++; console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`); }
}
async function api(key, path, opts = {}) {
    const r = await fetch(URL0 + '/api/v1' + path, { ...opts, headers: { Authorization: `Bearer ${key}`, ...(opts.headers || {}) } });
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return r.json();
}

const LAPTOP = { width: 1366, height: 768 }, WIDE = { width: 2560, height: 1300 };
const browser = await puppeteer.launch({
    executablePath: process.env.TIDE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const problems = []; // console errors, page errors, failed requests: none allowed but expected ones
const expected = []; // [method, url substring, status] of refusals provoked on purpose
function watch(page, who) {
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') problems.push({ who, kind: 'console', text: m.text(), url: m.location()?.url || '' }); });
    page.on('pageerror', (e) => problems.push({ who, kind: 'pageerror', text: String(e) }));
    page.on('requestfailed', (r) => { if (!r.url().includes('/sightings/stream')) problems.push({ who, kind: 'requestfailed', text: `${r.method()} ${r.url()} ${r.failure()?.errorText}` }); });
    page.on('response', (r) => {
        if (r.status() < 400) return;
        const m = r.request().method(), u = r.url();
        const ok = expected.find(([em, eu, es]) => em === m && u.includes(eu) && es === r.status());
        if (ok) ok.seen = true; else problems.push({ who, kind: 'http', text: `${m} ${u} -> ${r.status()}` });
    });
}
async function nav(page, hash) {
    const path = hash.split('?')[0];
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForFunction((p) => { const e = document.getElementById('page'); return e && e.dataset.path === p && e.getAttribute('aria-busy') === 'false'; }, { timeout: 30000 }, path);
}
async function shot(page, name, full = true) { await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: full }); }
const text = (page, sel) => page.$eval(sel, (e) => e.textContent);
async function noOverflow(page, where) {
    const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    check(`${where}: no horizontal scrolling at ${iw} px`, sw <= iw, `${sw} > ${iw}`);
}
async function signIn(page, key) {
    await page.goto(URL0 + '/', { waitUntil: 'load' });
    await page.waitForSelector('#signin #key');
    // by keyboard: the key field has the focus, Enter submits
    const focused = await page.evaluate(() => document.activeElement?.id);
    check('sign-in: the key field has the focus', focused === 'key');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.getElementById('nav').hidden && document.getElementById('page')?.getAttribute('aria-busy') === 'false', { timeout: 30000 });
}

try {
    // ================= analyst (ceiling amber) =================
    const page = await browser.newPage();
    await page.setViewport(LAPTOP);
    watch(page, 'analyst');
    await page.goto(URL0 + '/', { waitUntil: 'load' });
    await page.waitForSelector('#signin');
    await shot(page, 'signin', false);
    await signIn(page, ANALYST);
    check('sign in: the header names the key, its role and ceiling', /responder · analyst · TLP ceiling AMBER/.test(await text(page, '#who')));
    const cookies = await page.cookies();
    const sc = cookies.find((c) => c.name === 'tide_session');
    check('sign in: a session cookie, HttpOnly, SameSite=Strict', sc && sc.httpOnly && sc.sameSite === 'Strict');
    check('sign in: the key is kept nowhere in the page', !(await page.evaluate((k) => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie + document.body.innerHTML, ANALYST)).includes(ANALYST));

    // overview
    await nav(page, '/');
    const sightAll = (await api(ANALYST, '/sightings?limit=10000')).sightings;
    const ov = await page.evaluate(() => Object.fromEntries(window.tideCharts.map((c) => [c.canvas.id, c.data.datasets.map((d) => d.data)])));
    check('overview: sightings over time, cases by tier, intel by source and by TLP drawn', ['chart-sightings', 'chart-tiers', 'chart-sources', 'chart-tlp'].every((k) => ov[k]));
    const sum = (a) => a.flat().reduce((x, y) => x + (+y || 0), 0);
    check('overview: the sightings chart counts every sighting the API gives', sum(ov['chart-sightings'] || []) === sightAll.length, `${sum(ov['chart-sightings'] || [])} vs ${sightAll.length}`);
    const stats = await api(ANALYST, '/stats');
    const nSrc = stats.by_source ? Object.values(stats.by_source).reduce((a, b) => a + b, 0) : (await api(ANALYST, '/intel/search?limit=10000')).objects.length;
    check(`overview: intel by source as the API counts it (${nSrc} objects)`, sum(ov['chart-sources'] || []) === nSrc && nSrc > 0);
    check('overview: intel by TLP as the API counts it', sum(ov['chart-tlp'] || []) === Object.values(stats.by_tlp).reduce((a, b) => a + b, 0));
    await noOverflow(page, 'overview');
    await shot(page, 'overview');

    // search a value
    await nav(page, '/search');
    await page.type('#search-value', '45.115.53.189');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#search-results h2')?.textContent.includes('cover it') && document.getElementById('page')?.getAttribute('aria-busy') === 'false', { timeout: 30000 });
    const look = await api(ANALYST, '/intel/lookup?value=45.115.53.189');
    const rows = await page.$$eval('#lookup-results tbody tr', (t) => t.map((r) => r.textContent));
    check(`search 45.115.53.189: the ${look.indicators.length} indicators the API gives`, rows.length === look.indicators.length && look.indicators.every((i) => rows.some((r) => r.includes(i.name))), JSON.stringify(rows));
    check('search: the amber UndertowRAT indicator is there for an amber key', rows.some((r) => r.includes('UndertowRAT C2 server') && r.includes('TLP:AMBER')));
    await shot(page, 'search');
    const amberId = look.indicators.find((i) => i.tlp === 'amber').id;
    await nav(page, `/object/${amberId}`);
    const obj = await page.$eval('#page', (e) => e.textContent);
    check('object page: context, relationships (indicates UndertowRAT), versions', obj.includes('Relationships') && obj.includes('UndertowRAT') && obj.includes('Versions'));
    await shot(page, 'object');

    // the demo case: its silent hosts and its plan's evidence
    const cases = (await api(ANALYST, '/cases')).cases;
    const demo = cases[0];
    await nav(page, '/cases');
    const caseLink = await page.$(`#page a[href="#/cases/${demo.id}"]`);
    check('cases: the demo case is listed', !!caseLink);
    await caseLink.click();
    await page.waitForFunction((id) => document.getElementById('page')?.dataset.path === `/cases/${id}` && document.getElementById('page').getAttribute('aria-busy') === 'false', {}, String(demo.id));
    const doc = await api(ANALYST, `/cases/${demo.id}`);
    const silentUi = await page.$$eval('#scope tbody tr', (t) => t.filter((r) => r.querySelector('[data-status=silent]')).map((r) => r.cells[0].textContent).sort());
    const silentApi = doc.hosts.filter((x) => x.status === 'silent').map((x) => x.host).sort();
    check(`case ${demo.id}: its silent hosts (${silentApi.join(', ')})`, JSON.stringify(silentUi) === JSON.stringify(silentApi) && silentApi.includes('10.20.0.31') && silentApi.includes('10.20.0.32'), JSON.stringify(silentUi));
    const alertedUi = await page.$$eval('#scope [data-status=alerted]', (t) => t.length);
    check('case: its alerted hosts', alertedUi === doc.alerted_count && alertedUi === 3);
    check('case: tier and why, attribution, infection vector', (await text(page, '#case-rule')) === doc.rule && (await text(page, '#page')).includes('FIN-TIDE-DEMO') && (await text(page, '#page')).includes('Infection vector'));
    const steps = await page.$$eval('#plan li.plan-step', (t) => t.length);
    const nEvidence = doc.plan.reduce((n, p) => n + (p.evidence || []).length, 0);
    const evUi = await page.$$eval('#plan .evidence-item a', (t) => t.map((a) => [a.textContent, a.getAttribute('href')]));
    check(`case: the plan's ${doc.plan.length} actions and ${nEvidence} pieces of evidence, linked`, steps === doc.plan.length && evUi.length === nEvidence && nEvidence > 0, `${steps} ${evUi.length}`);
    await noOverflow(page, 'case page');
    await shot(page, 'case');
    await page.setViewport({ width: 1440, height: 1200 });
    await shot(page, 'case-top', false); // the README's picture
    await page.setViewport(LAPTOP);
    // follow one piece of evidence of a silent host to its sighting
    const ev = evUi.find(([, h]) => h.startsWith('#/host/10.20.0.31'));
    check('case: the evidence of silent host 10.20.0.31 links to its sightings', !!ev);
    await page.click(`#plan a[href="${ev[1]}"]`);
    await page.waitForFunction(() => document.getElementById('page')?.dataset.path === '/host/10.20.0.31' && document.getElementById('page').getAttribute('aria-busy') === 'false');
    const evRows = await page.$$eval('#host-sightings tbody tr', (t) => t.map((r) => r.textContent));
    check('evidence -> the sighting on the host: retro only (0 live / 1 retro), invoice-lumo43.click', evRows.length >= 1 && evRows.every((r) => r.includes('invoice-lumo43.click')) && evRows.some((r) => r.includes('0 / 1')), JSON.stringify(evRows));

    // a case opened from a sighting, a host's state advanced and stored
    await nav(page, '/host/10.20.0.14');
    await page.click('#host-sightings .open-case');
    await page.waitForFunction(() => /^\/cases\/\d+$/.test(document.getElementById('page')?.dataset.path || '') && document.getElementById('page').getAttribute('aria-busy') === 'false', { timeout: 60000 });
    const newId = +(await page.evaluate(() => document.getElementById('page').dataset.path.split('/')[2]));
    check('host timeline: "Open a case" opened a new case', newId > demo.id && (await text(page, '#case-status')) !== 'closed');
    const host = '10.20.0.14';
    await page.select(`#state-${CSS_escape(host)}`, 'contained');
    await page.click(`#advance-${CSS_escape(host)}`);
    await page.waitForFunction((h) => document.querySelector(`.host-state[data-host="${h}"]`)?.textContent === 'contained' && document.getElementById('page').getAttribute('aria-busy') === 'false', { timeout: 30000 }, host);
    const stored = await api(ANALYST, `/cases/${newId}`);
    check(`case ${newId}: ${host} contained, stored (read back through the API)`, stored.hosts.find((x) => x.host === host)?.state === 'contained');
    check('case: the change is in the case timeline, by the key', stored.timeline.some((t) => t.kind === 'state:contained' && t.host === host && t.actor === 'responder'));
    await shot(page, 'case-open');
    // a write without the CSRF token is refused even with the session cookie
    expected.push(['POST', `/api/v1/cases/${newId}/hosts/`, 403]);
    const noCsrf = await page.evaluate(async (id) => (await fetch(`/api/v1/cases/${id}/hosts/10.20.0.15`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"state":"contained"}' })).status, newId);
    check('a write with the session cookie and no CSRF token: 403', noCsrf === 403);

    // the campaign graph
    await page.setViewport(WIDE);
    await nav(page, '/graph?campaign=Operation%20Low%20Tide');
    await page.waitForFunction(() => window.tideGraph && window.tideGraph.nodes().length > 0);
    const g = await page.evaluate(() => ({
        nodes: window.tideGraph.nodes().map((n) => ({ id: n.id(), type: n.data('type'), label: n.data('full'), status: n.data('status') })),
        edges: window.tideGraph.edges().map((e) => `${e.data('source')}|${e.data('label')}|${e.data('target')}`),
    }));
    const byType = (t) => g.nodes.filter((n) => n.type === t).map((n) => n.label).sort();
    check('graph: intrusion set FIN-TIDE-DEMO, campaign Operation Low Tide, malware KelpLoader and UndertowRAT', byType('intrusion-set').includes('FIN-TIDE-DEMO') && byType('campaign').includes('Operation Low Tide') && JSON.stringify(byType('malware')) === '["KelpLoader","UndertowRAT"]', JSON.stringify([byType('intrusion-set'), byType('malware')]));
    const camp = (await api(ANALYST, '/intel/search?type=campaign')).objects.filter((o) => o.name === 'Operation Low Tide');
    const want = [];
    for (const c of camp) {
        for (const r of (await api(ANALYST, `/intel/objects/${c.id}`)).relationships) {
            if (['malware', 'intrusion-set', 'indicator'].includes(r.other_type)) want.push(r.direction === 'out' ? `${c.id}|${r.type}|${r.other_id}` : `${r.other_id}|${r.type}|${c.id}`);
            if (r.other_type === 'malware') for (const m of (await api(ANALYST, `/intel/objects/${r.other_id}`)).relationships) if (m.other_type === 'indicator') want.push(`${m.other_id}|${m.type}|${r.other_id}`);
        }
    }
    const missing = want.filter((e) => !g.edges.includes(e));
    check(`graph: every relationship the API gives for the campaign and its malware (${want.length} edges)`, want.length > 30 && missing.length === 0, missing.slice(0, 3).join(' '));
    const sc2 = (await api(ANALYST, '/sightings?campaign=Operation%20Low%20Tide&limit=10000')).sightings;
    const live = new Set(sc2.filter((x) => x.live_count > 0).map((x) => x.host));
    const hostsApi = [...new Set(sc2.map((x) => x.host))];
    const hostsUi = g.nodes.filter((n) => n.type === 'host');
    check('graph: alerted hosts 10.20.0.11, .14, .15', JSON.stringify(hostsUi.filter((n) => n.status === 'alerted').map((n) => n.label).sort()) === JSON.stringify(hostsApi.filter((x) => live.has(x)).sort()) && hostsUi.filter((n) => n.status === 'alerted').length === 3);
    check('graph: silent hosts 10.20.0.31, .32 (found by hunts) told apart', JSON.stringify(hostsUi.filter((n) => n.status === 'silent').map((n) => n.label).sort()) === '["10.20.0.31","10.20.0.32"]');
    check('graph: one edge per host x indicator sighted', sc2.every((x) => g.edges.includes(`host:${x.host}|sighted|${x.indicator_id}`)) && g.edges.filter((e) => e.includes('|sighted|')).length === new Set(sc2.map((x) => `${x.host}|${x.indicator_id}`)).size);
    // by keyboard: a node of the list, Enter, its neighbours shown
    await page.focus('#graph-info a[data-node="host:10.20.0.31"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#graph-info h2')?.textContent.includes('silent host 10.20.0.31'));
    check('graph: a node chosen by keyboard shows its neighbours', (await text(page, '#graph-info')).includes('invoice-lumo43.click'));
    await noOverflow(page, 'graph (wide)');
    await shot(page, 'graph', false);
    await page.setViewport(LAPTOP);
    await nav(page, '/graph?campaign=Operation%20Low%20Tide');
    await page.waitForFunction(() => window.tideGraph && window.tideGraph.nodes().length > 0);
    await noOverflow(page, 'graph (laptop)');
    await shot(page, 'graph-laptop', false);

    // a host timeline
    await nav(page, '/host/10.20.0.11');
    const hs = (await api(ANALYST, '/sightings?host=10.20.0.11&limit=10000')).sightings;
    const tl = await page.evaluate(() => { const c = window.tideCharts.find((x) => x.canvas.id === 'chart-host'); return c && { live: c.data.datasets[0].data.length, retro: c.data.datasets[1].data.length, rows: c.options.scales.y.labels.length }; });
    const hrows = await page.$$eval('#host-sightings tbody tr', (t) => t.length);
    check(`host timeline 10.20.0.11: its ${hs.length} sightings in the table`, hrows === hs.length && hs.length > 0);
    check('host timeline: the chart marks the live sightings, one row per indicator', tl && tl.live >= hs.filter((x) => x.live_count > 0).length && tl.rows === new Set(hs.map((x) => `${x.kind} ${x.indicator}`)).size, JSON.stringify(tl));
    await noOverflow(page, 'host timeline');
    await shot(page, 'host');

    // metrics
    await nav(page, '/metrics');
    const m = await api(ANALYST, '/metrics');
    const mc = await page.evaluate(() => Object.fromEntries(window.tideCharts.map((c) => [c.canvas.id, { labels: c.data.labels, data: c.data.datasets.map((d) => d.data) }])));
    check('metrics: the per-case chart has every case', mc['chart-metrics-cases']?.labels.length === m.response.cases.length);
    const t3 = m.response.cases.filter((c) => c.tier === 3 && c.time_to_detect_s != null).map((c) => c.time_to_detect_s);
    check('metrics: tier 3 mean time to detect as the API gives it (hours)', Math.abs(mc['chart-metrics-tiers'].data[0][2] - t3.reduce((a, b) => a + b, 0) / t3.length / 3600) < 0.01);
    const painted = await page.$$eval('canvas', (cs) => cs.map((c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }));
    check('metrics: both charts painted', painted.length === 2 && painted.every((n) => n > 1000), JSON.stringify(painted));
    await shot(page, 'metrics');

    // live
    await nav(page, '/live');
    await page.waitForFunction(() => document.getElementById('live-status')?.textContent.startsWith('connected'), { timeout: 15000 });
    check('live: the stream of sightings is connected', true);
    // a match run stores a new sighting: it appears on the page
    const log = join(SHOTS, 'live-dns.json');
    writeFileSync(log, JSON.stringify({ ts: 1796550000.0, uid: 'Clive1', 'id.orig_h': '10.20.0.77', 'id.orig_p': 5353, 'id.resp_h': '10.20.0.1', 'id.resp_p': 53, proto: 'udp', query: 'secure-ferra37.top', qtype_name: 'A' }) + '\n');
    execFileSync(process.env.TIDE_BIN, ['--store', process.env.TIDE_STORE, 'match', '--format', 'zeek-json', '--no-history', log], { stdio: 'ignore' });
    await page.waitForFunction(() => [...document.querySelectorAll('.live-list tbody tr')].some((r) => r.textContent.includes('10.20.0.77') && r.textContent.includes('secure-ferra37.top')), { timeout: 20000 });
    check('live: a sighting stored by tide match appears within seconds', true);
    await shot(page, 'live', false);

    // keyboard: the nav links
    await page.focus('#nav a[href="#/cases"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('page')?.dataset.path === '/cases');
    check('keyboard: a nav link followed with Enter', true);

    // sign out
    await page.click('#signout');
    await page.waitForSelector('#signin #key');
    expected.push(['GET', '/api/v1/cases', 401]);
    const after = await page.evaluate(async () => (await fetch('/api/v1/cases')).status);
    check('sign out: the cookie no longer works (401)', after === 401);

    // ================= reader (ceiling green) =================
    const ctx = await browser.createBrowserContext();
    const rp = await ctx.newPage();
    await rp.setViewport(LAPTOP);
    watch(rp, 'reader');
    await signIn(rp, READER);
    check('reader: signed in, role and ceiling shown', /viewer · reader · TLP ceiling GREEN/.test(await text(rp, '#who')));
    await nav(rp, '/search?value=45.115.53.189');
    const rrows = await rp.$$eval('#lookup-results tbody tr', (t) => t.map((r) => r.textContent));
    check('reader: the lookup shows the green indicator only, no amber object', rrows.length === 1 && !rrows.join().includes('AMBER') && !rrows.join().includes('UndertowRAT C2 server'), JSON.stringify(rrows));
    await shot(rp, 'reader-search');
    expected.push(['GET', `/api/v1/intel/objects/${amberId}`, 404], ['GET', `/api/v1/cases/${demo.id}`, 404]);
    await nav(rp, `/object/${amberId}`);
    check('reader: the amber object is not shown', !!(await rp.$('#not-visible')) && !(await text(rp, '#page')).includes('UndertowRAT C2'));
    await nav(rp, `/cases/${demo.id}`);
    check('reader: the amber demo case is not shown', !!(await rp.$('#not-visible')));
    await nav(rp, '/cases');
    check('reader: no case listed', (await rp.$$eval('#page tbody tr a', (t) => t.length)) === 0);
    await nav(rp, '/graph?campaign=Operation%20Low%20Tide');
    await rp.waitForFunction(() => window.tideGraph);
    const rg = await rp.evaluate(() => window.tideGraph.nodes().map((n) => n.id()));
    const amberIds = new Set([amberId, ...(await api(ANALYST, '/intel/search?related=Operation%20Low%20Tide')).objects.filter((o) => !['clear', 'green', 'white'].includes(o.tlp)).map((o) => o.id)]);
    check('reader: the campaign graph holds no amber object', rg.length > 0 && rg.every((id) => !amberIds.has(id)), rg.filter((id) => amberIds.has(id)).join(' '));
    await nav(rp, '/host/10.20.0.11');
    const rtl = await rp.$$eval('#host-sightings tbody tr', (t) => t.map((r) => r.textContent));
    check('reader: the host timeline shows no amber sighting', rtl.length > 0 && rtl.every((r) => !r.includes('TLP:AMBER') && !r.includes('TLP:RED')));
    expected.push(['POST', '/api/v1/cases', 403]);
    await rp.click('#host-sightings .open-case');
    await rp.waitForFunction(() => !document.getElementById('banner').hidden);
    check('reader: "Open a case" is refused and the page says so', /^Refused: forbidden.*cases:write/.test(await text(rp, '#banner')), await text(rp, '#banner'));
    await shot(rp, 'reader-refused', false);
    const code = await rp.evaluate(async (id) => {
        const s = await (await fetch('/api/v1/session')).json();
        return (await fetch(`/api/v1/cases/${id}/hosts/10.20.0.15`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf }, body: '{"state":"contained"}' })).status;
    }, newId);
    const after2 = await api(ANALYST, `/cases/${newId}`);
    check('reader: a host state change with the session and its CSRF token is refused (403), nothing stored', code === 403 && after2.hosts.find((x) => x.host === '10.20.0.15')?.state === 'affected', `${code}`);
    await nav(rp, '/metrics');
    check('reader: metrics say the role cannot read them (no request made)', !!(await rp.$('#no-metrics')));
    await noOverflow(rp, 'reader metrics');

    // no console errors anywhere
    const unexpected = expected.filter((e) => !e.seen);
    check('every refusal provoked on purpose was seen', unexpected.length === 0, JSON.stringify(unexpected));
    const bad = problems.filter((p) => !(p.kind === 'console' && /status of (401|403|404)/.test(p.text) && expected.some(([, u, s]) => p.url.includes(u) && p.text.includes(String(s)))));
    check('no console errors, page errors or failed requests on any page', bad.length === 0, JSON.stringify(bad.slice(0, 5)));
} catch (e) {
    fail++;
    console.log(`FAIL ${e.stack || e}`);
} finally {
    await browser.close();
}
console.log(`webui: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);

function CSS_escape(s) { return s.replace(/\./g, '\\.'); }
