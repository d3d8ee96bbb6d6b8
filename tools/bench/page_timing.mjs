// page_timing.mjs BASE PASSWORD [LOADS]: how long the page takes, in Debian's
// chromium (headless, through playwright-core), from navigation to usable, on
// a daemon that make bench started on loopback. Two states, LOADS loads each
// (after 2 warm-up loads), every load a full download (the daemon sends
// Cache-Control: no-store):
//   login:    a browser without a session: the login form shown, its password
//             field focused, its handler attached;
//   overview: a logged-in browser: every line's tab listed, the open line's
//             form rendered from /fields.json and GET /lines.
// "Usable" is the moment the DOM reaches that state (a MutationObserver
// installed before the page's own script), in performance.now() time, i.e.
// since the navigation started; "painted" is the next animation frame. Also
// the longest task seen (the Long Tasks API: anything over 50 ms blocks input),
// the page's own work on the way (see ownWork), and the bytes of the page's
// files on the wire. Prints one line per figure:
//   NAME median p90 max      (milliseconds)
//   longtask MAX             (ms; 0 = no task over 50 ms)
//   bytes TOTAL
import { chromium } from 'playwright-core';

const [base, password, loadsArg] = process.argv.slice(2);
if (!base || !password) {
  console.error('usage: page_timing.mjs BASE PASSWORD [LOADS]');
  process.exit(2);
}
const LOADS = Math.max(1, Math.min(200, Number(loadsArg) || 21));
const WARMUP = 2;

// Runs in the page before any of its scripts (not subject to its CSP).
function probe() {
  const t = { at: 0, frame: 0, kind: '', long: 0 };
  window.__pageTiming = t;
  const state = () => {
    const login = document.getElementById('login');
    if (login && !login.hidden && document.activeElement && document.activeElement.id === 'login-pass') return 'login';
    const tab = document.querySelector('[role=tab][aria-selected=true] .tab-title');
    if (tab && document.querySelector('form.line:not([hidden]) input')) return 'overview';
    return '';
  };
  const check = () => {
    if (t.at) return;
    const k = state();
    if (!k) return;
    t.at = performance.now();
    t.kind = k;
    mo.disconnect();
    requestAnimationFrame(() => { t.frame = performance.now(); });
  };
  const mo = new MutationObserver(check);
  mo.observe(document, { subtree: true, childList: true, attributes: true });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) t.long = Math.max(t.long, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  } catch { /* no Long Tasks API: reported as 0 */ }
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// The page's own work on the way, from the browser's timing entries: "script",
// running app.js and its DOMContentLoaded handler (domContentLoadedEventStart -
// domInteractive is the deferred script, then the event's handlers); "render",
// from the last of GET /lines and /fields.json arriving to the overview usable
// (building the tabs and the open line's form). Less moved by the machine's
// load than the end-to-end figure, which also waits for the network and the browser.
function ownWork(t) {
  const nav = performance.getEntriesByType('navigation')[0];
  const script = nav.domContentLoadedEventStart - nav.domInteractive +
    (nav.domContentLoadedEventEnd - nav.domContentLoadedEventStart);
  const data = performance.getEntriesByType('resource')
    .filter((e) => /\/api\/v1\/lines$|\/fields\.json$/.test(e.name)).map((e) => e.responseEnd);
  return { script, render: data.length === 2 ? t - Math.max(...data) : 0 };
}

async function measure(page, want) {
  const out = { usable: [], painted: [], long: 0, script: [], render: [] };
  for (let i = 0; i < WARMUP + LOADS; i++) {
    await page.goto(base + '/', { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => window.__pageTiming && window.__pageTiming.frame > 0, null, { timeout: 20000 });
    const t = await page.evaluate(() => window.__pageTiming);
    if (t.kind !== want) throw new Error(`expected the ${want} state, the page showed ${t.kind}`);
    const own = await page.evaluate(ownWork, t.at);
    // let what the load set off (the other lines' reads, live checks) finish before the next
    await page.waitForLoadState('networkidle');
    if (i < WARMUP) continue;
    out.usable.push(t.at);
    out.painted.push(t.frame);
    out.long = Math.max(out.long, t.long);
    out.script.push(own.script);
    out.render.push(own.render);
  }
  return out;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-extensions'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.addInitScript(probe);
  const page = await ctx.newPage();
  const login = await measure(page, 'login');
  // The bytes of one first load: the login page, then the field table after logging in.
  const got = [];
  const seen = (r) => { if (!new URL(r.url()).pathname.startsWith('/api/')) got.push(r); };
  page.on('requestfinished', seen);
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.fill('#login-pass', password);
  await page.press('#login-pass', 'Enter');
  await page.locator('[role=tab]').first().waitFor({ timeout: 20000 });
  await page.waitForLoadState('networkidle');
  page.off('requestfinished', seen);
  let firstLoad = 0;
  for (const r of got) firstLoad += (await r.sizes()).responseBodySize;
  // Logged in (the tab keeps its session): each load now opens the overview.
  const overview = await measure(page, 'overview');

  const row = (name, xs) => console.log(`${name} ${median(xs).toFixed(1)} ${pct(xs, 90).toFixed(1)} ${Math.max(...xs).toFixed(1)}`);
  row('login', login.usable);
  row('login-painted', login.painted);
  row('overview', overview.usable);
  row('overview-painted', overview.painted);
  row('login-script', login.script);
  row('overview-script', overview.script);
  row('overview-render', overview.render);
  console.log(`longtask ${Math.max(login.long, overview.long).toFixed(0)}`);
  console.log(`bytes ${firstLoad}`);
} finally {
  await browser.close();
}
