// sipcfg page, its entry (a module: www/index.html): log in and out, the
// overview of the lines (their tabs, the open one, the footer), and the
// handlers of the page's fixed parts. One line's form is line.js, its live
// checks checks.js, the admin part admin.js, what they all share util.js.
// Text is only set with textContent (never parsed as HTML).
import { $, csrf, L, el, btn, say, api, why, labelOf, loadFields, setCsrf } from './util.js';
import { buildPanel, dirtyLines } from './line.js';
import { liveAll } from './checks.js';
import { changePassword, exportConfig, importFile, applyImport } from './admin.js';

let openLine = 0;

function showLogin(message) {
  setCsrf('');
  sessionStorage.removeItem('sipcfg-csrf');
  for (const id of ['lines', 'admin', 'logout']) $(id).hidden = true;
  $('login').hidden = false;
  say(message || '', !!message);
  $('login-pass').focus();
}

// Answers shared by every call: back to the login form when the session is gone.
function sessionGone(r) {
  if (r.status !== 401 && r.status !== 403) return false;
  showLogin(r.status === 401 || !csrf ? 'Your session has ended: please log in again.'
    : 'The page lost its session token: please log in again.');
  return true;
}

async function login(ev) {
  ev.preventDefault();
  const r = await api('POST', '/session', { username: $('login-user').value, password: $('login-pass').value });
  $('login-pass').value = '';
  if (r.status === 201 && r.json.csrf_token) {
    setCsrf(r.json.csrf_token);
    sessionStorage.setItem('sipcfg-csrf', csrf);
    say('');
    loadAll(true);
    return;
  }
  if (r.status === 429) {
    const wait = r.headers && r.headers.get('Retry-After');
    say('Too many failed logins from here: try again in ' + (wait || 'a few') + ' seconds.', true);
  } else if (r.status === 401) {
    say('Wrong user name or password.', true);
  } else {
    say('Login failed: ' + why(r) + '.', true);
  }
}

async function logout() {
  if (dirtyLines().length && !window.confirm('Unsaved changes will be lost. Log out anyway?')) return;
  await api('DELETE', '/session');
  L.clear();
  showLogin('');
  say('Logged out.');
}

async function loadAll(focus) {
  const lines = api('GET', '/lines');
  try {
    await loadFields();
  } catch (e) {
    say('Cannot read the description of the fields: ' + e.message, true);
    return;
  }
  const r = await lines;
  if (sessionGone(r)) return;
  if (r.status !== 200 || !Array.isArray(r.json.lines)) {
    say('Cannot read the lines (HTTP ' + r.status + ').', true);
    return;
  }
  $('login').hidden = true;
  for (const id of ['lines', 'admin', 'logout']) $(id).hidden = false;
  $('tabs').replaceChildren();
  $('panels').replaceChildren();
  L.clear();
  for (const line of r.json.lines) addLine(line);
  const first = r.json.lines.length ? r.json.lines[0].line : 0;
  const want = Number(sessionStorage.getItem('sipcfg-open')) || first;
  show(L.has(want) ? want : first, focus);
  // After the first paint: what the overview adds (each line's stored DNS) and
  // the footer; the open line read its ETag when its form was built.
  requestAnimationFrame(() => setTimeout(() => {
    loadStatus();
    for (const st of L.values()) loadStored(st);
  }));
}

async function loadStatus() {
  const r = await api('GET', '/status');
  if (r.status !== 200) return;
  const s = r.json.store || {};
  const f = $('foot');
  f.replaceChildren();
  f.append(el('span', null, 'sipcfg ' + (r.json.version || '')),
    el('span', null, 'storage generation ' + (s.generation === undefined ? '?' : s.generation)),
    el('span', null, s.saved_at ? 'last saved ' + when(s.saved_at) : 'never saved'));
}

function when(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

function renderTab(st) {
  const l = st.saved;
  const who = l.user ? l.user + '@' + (l.domain || (l.proxy ? l.proxy.host : '?')) : 'no user';
  st.tab.replaceChildren(el('span', 'tab-title', 'Line ' + l.line + (l.label ? ': ' + l.label : '')), el('span', 'tab-who', who),
    el('span', 'tab-state' + (st.dnsBad ? ' bad' : ''), (l.enabled ? 'enabled' : 'disabled') + (st.dns ? ' \u00b7 ' + st.dns : '')));
  if (st.dirty) st.tab.append(el('span', 'tab-dirty', 'unsaved changes'));
}

function show(n, focus) {
  openLine = n;
  sessionStorage.setItem('sipcfg-open', String(n));
  for (const [k, st] of L) {
    const on = k === n;
    st.tab.setAttribute('aria-selected', on ? 'true' : 'false');
    st.tab.tabIndex = on ? 0 : -1;
    if (st.panel) st.panel.hidden = !on;
  }
  const st = L.get(n);
  if (st && !st.panel) buildPanel(st);
  if (st && !st.fresh) liveAll(st);
  if (st && focus) st.tab.focus();
}

function tabKeys(ev) {
  const keys = [...L.keys()];
  const i = keys.indexOf(openLine);
  const to = { ArrowDown: i + 1, ArrowRight: i + 1, ArrowUp: i - 1, ArrowLeft: i - 1, Home: 0, End: keys.length - 1 }[ev.key];
  if (to === undefined) return;
  ev.preventDefault();
  show(keys[(to + keys.length) % keys.length], true);
}

// The overview's DNS state: what the last save stored of each server's DNS
// (GET .../resolutions reads flash; no lookup). A server stored without an
// ok resolution was saved with "Save anyway", or imported unchecked.
async function loadStored(st) {
  const r = await api('GET', '/lines/' + st.n + '/resolutions');
  if (r.status !== 200 || L.get(st.n) !== st) return;
  const res = r.json.resolutions || [];
  const bad = res.filter((x) => !x.resolved).map((x) => labelOf(x.field).toLowerCase());
  st.dnsBad = bad.length > 0;
  st.dns = !res.length ? 'no server set' : bad.length
    ? bad.join(' and ').replace(/^./, (c) => c.toUpperCase()) + ' not resolved when saved (stored anyway)'
    : 'servers resolved when saved';
  renderTab(st);
}

// A line's tab now; its form when it is first opened (building every line's
// form at load would be most of the page's work before it can be used).
function addLine(line) {
  const n = line.line;
  const st = { n, saved: line, etag: '', dirty: false, inputs: {}, rows: {}, seq: {}, timers: {}, pw: 'keep', dns: '' };
  L.set(n, st);
  st.tab = btn('tab', null, () => show(n, false), { id: 'tab-' + n, onkeydown: tabKeys });
  st.tab.setAttribute('role', 'tab');
  $('tabs').append(st.tab);
  renderTab(st);
}

window.addEventListener('beforeunload', (ev) => {
  if (!dirtyLines().length) return;
  ev.preventDefault();
  ev.returnValue = '';
});

document.addEventListener('DOMContentLoaded', () => {
  $('login').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('pw-form').addEventListener('submit', changePassword);
  $('export').addEventListener('click', exportConfig);
  $('import-file').addEventListener('change', importFile);
  $('import-apply').addEventListener('click', applyImport);
  if (csrf) loadAll(false); else showLogin('');
});

export { loadAll, loadStatus, loadStored, openLine, renderTab, sessionGone, showLogin };
