// sipcfg page: every field of each line (from /fields.json), live DNS and routing,
// save with If-Match, admin. Text is only set with textContent (never parsed as
// HTML); every call sends X-Requested-With so that a 401 never makes the browser
// show its own password dialog (the daemon then omits the digest challenge).
'use strict';

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 350;
let FIELDS = [];          // lib/line.c's field table, as /fields.json serves it
let csrf = sessionStorage.getItem('sipcfg-csrf') || '';
const L = new Map();      // line number -> state of its panel (see addLine)
let openLine = 0;

function el(tag, cls, text, props) {
  const e = Object.assign(document.createElement(tag), props);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function btn(cls, text, onclick, props) {
  return el('button', cls, text, Object.assign({ type: 'button', onclick }, props));
}

const input = (props) => el('input', null, null, Object.assign({ autocomplete: 'off', spellcheck: false }, props));

function say(text, bad) {
  const s = $('status');
  s.textContent = text || '';
  s.className = bad ? 'bad' : '';
}

async function api(method, path, body, extra) {
  const headers = Object.assign({ 'X-Requested-With': 'sipcfg', 'Accept': 'application/json' }, extra || {});
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch (e) {
    return { status: 0, json: { detail: 'the phone does not answer' } };
  }
  const json = /json/.test(res.headers.get('Content-Type')) ? await res.json().catch(() => null) : null;
  return { status: res.status, json: json || {}, headers: res.headers };
}

const why = (r) => human((r.json.errors || []).map((e) => e.message).join(' ') || r.json.detail || r.json.title || 'HTTP ' + r.status);

const fieldByName = (n) => FIELDS.find((f) => f.name === n);
const labelOf = (n) => (fieldByName(n) || {}).label || n.replace(/_/g, ' ');

// Messages from the daemon may name a field by its JSON name or path
// ("register_expires 5 is out of range", "lines[0].proxy"): say it with labels.
function human(msg) {
  let t = String(msg || '').replace(/lines\[(\d+)\]\.?/g, (m, i) => 'line ' + (Number(i) + 1) + ' ');
  const names = FIELDS.map((f) => f.name).filter((n) => n.indexOf('_') > 0).sort((a, b) => b.length - a.length);
  for (const n of names) t = t.replace(new RegExp('(^|[^\\w.-])' + n + '(?![\\w.-])', 'g'), '$1' + labelOf(n));
  // "(NXDOMAIN)", "(SERVFAIL)": the words before already say it
  return t.replace(/ \((NXDOMAIN|SERVFAIL|REFUSED|timeout)\)/g, '').replace(/\s+/g, ' ').trim();
}

const TRANSPORTS = { auto: 'automatic', udp: 'UDP', tcp: 'TCP', tls: 'TLS' };
const SOURCES = { image: 'the flash image', api: 'the REST API', page: 'this page' };

function hostText(s) {
  const h = s.host.indexOf(':') >= 0 ? '[' + s.host + ']' : s.host;
  return s.port ? h + ':' + s.port : h;
}

function targetText(t) {
  let s = hostText({ host: t.host, port: t.port }) + ' ' + (TRANSPORTS[t.transport] || t.transport);
  const a = (t.addresses || []).filter((x) => x !== t.host);
  if (a.length) s += ' (' + a.join(', ') + ')';
  return s;
}

// Targets of the same priority share the load ("or"); a lower priority is tried "then".
function targetsText(ts) {
  const groups = [];
  for (const t of ts) {
    const g = groups[groups.length - 1];
    if (g && g.p === t.priority) g.t.push(targetText(t)); else groups.push({ p: t.priority, t: [targetText(t)] });
  }
  return groups.map((g) => g.t.join(' or ')).join(', then ');
}

const HOW = { srv: 'found through DNS SRV', naptr: 'found through DNS NAPTR and SRV',
  a: 'the address of the name itself (no SRV)', literal: 'an IP address: no lookup needed' };

function resolutionText(r) {
  const name = r.server ? r.server.host : '';
  switch (r.status) {
    case 'ok': return targetsText(r.targets || []) + ' \u2014 ' + (HOW[r.method] || r.method) + '.';
    case 'nxdomain': return name + ' does not exist in DNS.';
    case 'no_records': return name + ' exists, but has no SIP service (SRV) and no address.';
    case 'unavailable': return name + ' says it offers no SIP service here.';
    case 'servfail': return 'The DNS server failed to answer for ' + name + '.';
    case 'refused': return 'The DNS server refused to answer for ' + name + '.';
    case 'timeout': return 'The DNS server did not answer.';
    case 'skipped': return 'Not checked.';
    default: return name + ': ' + r.status;
  }
}

function showLogin(message) {
  csrf = '';
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
    csrf = r.json.csrf_token;
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

async function loadFields() {
  if (FIELDS.length) return;
  const r = await fetch('/fields.json', { credentials: 'same-origin' });
  if (!r.ok) throw new Error('HTTP ' + r.status);
  FIELDS = await r.json();
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

async function reloadLine(st, quiet) {
  const r = await api('GET', '/lines/' + st.n);
  if (sessionGone(r)) return;
  if (r.status !== 200) return;
  st.etag = r.headers.get('ETag') || '';
  if (!quiet || !st.dirty) fill(st, r.json);
}

// Presentation groups: a field the table adds later lands in "Account" (or
// "Servers" when it is a server) with no edit here.
const GROUP_OF = { dns_srv: 'Servers', register: 'Registration', register_expires: 'Registration' };
const GROUPS = ['Account', 'Registration', 'Servers'];
const groupOf = (f) => GROUP_OF[f.name] || (f.type === 'server' ? 'Servers' : 'Account');

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

function buildPanel(st) {
  const n = st.n;
  st.tab.setAttribute('aria-controls', 'panel-' + n);
  const form = el('form', 'line', null, { id: 'panel-' + n, noValidate: true });
  form.dataset.line = String(n);
  form.setAttribute('role', 'tabpanel');
  form.setAttribute('aria-labelledby', 'tab-' + n);
  st.panel = form;
  st.title = el('h3', 'line-title');
  form.append(st.title);
  const sets = {};
  for (const g of GROUPS) sets[g] = el('fieldset', 'group');
  for (const g of GROUPS) sets[g].append(el('legend', null, g));
  for (const f of FIELDS) sets[groupOf(f)].append(fieldRow(st, f));
  for (const g of GROUPS) if (sets[g].children.length > 1) form.append(sets[g]);

  const route = el('section', 'routing');
  route.setAttribute('aria-label', 'Where requests go');
  st.route = el('div', 'route-text');
  route.append(el('h4', null, 'Where requests go'), st.route);

  const bar = el('div', 'actions');
  st.anyway = btn('anyway', 'Save anyway', () => saveLine(st, 'warn'), { hidden: true });
  st.reload = btn('quiet', 'Reload the line', () => { st.dirty = false; reloadLine(st).then(() => { loadStored(st); announce(st, 'Reloaded.', 'ok'); }); }, { hidden: true });
  st.confirm = el('div', 'confirm', null, { hidden: true });
  const reset = btn('quiet danger', 'Reset to factory defaults\u2026', () => { st.confirm.hidden = false; no.focus(); });
  const no = btn('quiet', 'Cancel', () => { st.confirm.hidden = true; reset.focus(); });
  st.confirm.append(el('p', null, 'Reset line ' + n + ' to factory defaults? Its user, password and servers are erased.'),
    btn('danger', 'Reset line ' + n, () => resetLine(st, reset)), no);
  st.result = el('p', 'result', null, { tabIndex: -1 });  // #status announces it
  bar.append(el('button', 'save', 'Save line ' + n, { type: 'submit' }), st.anyway, st.reload, reset, st.confirm, st.result);
  form.append(route, bar);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); saveLine(st, 'require'); });
  form.addEventListener('input', (ev) => edited(st, ev.target));
  form.addEventListener('change', (ev) => edited(st, ev.target));
  $('panels').append(form);
  fill(st, st.saved);
  st.loading = reloadLine(st, true);  // its ETag, for If-Match
}

function fieldRow(st, f) {
  const id = 'l' + st.n + '-' + f.name;
  const row = el('div', 'field f-' + f.type);
  row.dataset.field = f.name;
  const help = el('p', 'help', f.help, { id: id + '-help' });
  const err = el('p', 'field-error', null, { id: id + '-err' });
  const note = el('p', 'note', null, { id: id + '-note' });  // provenance and lock
  const r = { row, help, err, note, dnsOut: null, f };
  st.rows[f.name] = r;
  let main;
  if (f.type === 'server') {
    main = serverInputs(st, f, id, r);
  } else if (f.type === 'password') {
    main = passwordInputs(st, f, id, r);
  } else if (f.type === 'boolean') {
    const i = st.inputs[f.name] = el('input', null, null, { type: 'checkbox', id });
    main = el('label', 'check', null, { htmlFor: id });
    main.append(i, ' ' + f.label);
  } else {
    const i = st.inputs[f.name] = input({ id });
    if (f.type === 'integer') Object.assign(i, { inputMode: 'numeric', placeholder: f.min + '\u2013' + f.max });
    main = el('div', 'stack');
    main.append(el('label', null, f.label, { htmlFor: id }), i);
  }
  const meta = el('div', 'meta');
  meta.append(help);
  const also = Object.keys(f.vendors || {}).map((k) => k + ' \u2018' + f.vendors[k] + '\u2019');
  if (also.length) {
    const d = el('details', 'vendors');
    d.append(el('summary', null, 'Other names'), el('p', null, 'also called: ' + also.join(', ')));
    meta.append(d);
  }
  row.append(main, meta, note, err);
  if (r.dnsOut) row.append(r.dnsOut);
  for (const i of inputsOf(st, f.name)) describe(i, r);
  return row;
}

function serverInputs(st, f, id, r) {
  const fs = el('fieldset', 'server');
  const host = st.inputs[f.name] = input({ id, placeholder: 'not set' });
  const port = st.inputs[f.name + '.port'] = input({ id: id + '-port', inputMode: 'numeric', placeholder: 'from DNS' });
  const tp = st.inputs[f.name + '.transport'] = el('select', null, null, { id: id + '-transport' });
  for (const [v, t] of Object.entries(TRANSPORTS)) tp.append(el('option', null, t, { value: v }));
  const grid = el('div', 'hpt');
  for (const [t, i, cls] of [['Host', host, 'host'], ['Port', port, 'port'], ['Transport', tp, 'transport']]) {
    const w = el('div', 'part ' + cls);
    w.append(el('label', null, t, { htmlFor: i.id }), i);
    grid.append(w);
  }
  fs.append(el('legend', null, f.label), grid);
  r.dnsOut = el('div', 'dns', null, { id: id + '-dns' });
  r.dnsOut.setAttribute('aria-live', 'polite');
  return fs;
}

function passwordInputs(st, f, id, r) {
  const box = el('div', 'pw');
  const i = st.inputs[f.name] = el('input', null, null, { type: 'password', id, autocomplete: 'new-password' });
  const to = (mode, focus) => () => {
    st.pw = mode;
    if (mode !== 'replace') i.value = '';
    pwView(st);
    (focus() || i).focus();
    edited(st, i);
  };
  const entry = el('div', 'stack');
  entry.append(el('label', null, 'New password', { htmlFor: id }), i);
  r.pw = { entry };
  r.pw.repl = btn('quiet', 'Replace', to('replace', () => i));
  r.pw.keep = btn('quiet', 'Keep the stored one', to('keep', () => r.pw.repl));
  r.pw.clear = btn('quiet', 'Clear', to('clear', () => r.pw.keep));
  r.pwState = el('span', 'pw-state');
  box.append(el('span', 'pw-label', f.label + ': '), r.pwState, r.pw.repl, r.pw.clear, r.pw.keep, entry);
  return box;
}

function pwView(st) {
  const r = st.rows.password;
  if (!r) return;
  const set = st.saved.password_set;
  const locked = isLocked(st, 'password');
  r.pwState.textContent = st.pw === 'clear' ? 'will be cleared when you save'
    : st.pw === 'replace' ? (set ? 'stored; will be replaced when you save' : 'not set; will be set when you save')
      : set ? 'stored' : 'not set';
  r.pw.entry.hidden = st.pw !== 'replace';
  r.pw.repl.hidden = st.pw === 'replace' || locked;
  r.pw.clear.hidden = st.pw === 'clear' || !set || locked;
  r.pw.keep.hidden = st.pw === 'keep';
}

function inputsOf(st, name) {
  return [st.inputs[name], st.inputs[name + '.port'], st.inputs[name + '.transport']].filter((x) => x);
}

function describe(i, r) {
  const ids = [r.help, r.note, r.err, r.dnsOut].filter((e) => e && e.textContent).map((e) => e.id);
  i.setAttribute('aria-describedby', ids.join(' '));
}

// The API names the password 'password_set' in 'locked' and 'provenance' (it never returns a 'password').
const apiName = (name) => (name === 'password' ? 'password_set' : name);
const isLocked = (st, name) => Array.isArray(st.saved.locked) && st.saved.locked.indexOf(apiName(name)) >= 0;

function fill(st, line) {
  st.saved = line;
  st.pw = 'keep';
  if (!st.panel) return renderTab(st);  // not opened yet: its form is built from st.saved
  for (const f of FIELDS) {
    const v = line[f.name];
    const i = st.inputs[f.name];
    if (!i) continue;
    if (f.type === 'server') {
      i.value = v ? v.host : '';
      st.inputs[f.name + '.port'].value = v && v.port ? String(v.port) : '';
      st.inputs[f.name + '.transport'].value = v ? v.transport : 'auto';
    } else if (f.type === 'boolean') {
      i.checked = !!v;
    } else if (f.type !== 'password') {
      i.value = v ?? '';
    } else {
      i.value = '';
    }
    const r = st.rows[f.name];
    const locked = isLocked(st, f.name);
    for (const x of inputsOf(st, f.name)) x.disabled = locked;
    const p = line.provenance && line.provenance[apiName(f.name)];
    const bits = [];
    if (p && p.source && p.source !== 'default') {
      bits.push('Set by ' + (SOURCES[p.source] || p.source) + (p.at ? ' on ' + String(p.at).slice(0, 10) : '') + '.');
    }
    if (locked) bits.push('Locked: only provisioning can change it.');
    r.note.textContent = bits.join(' ');
    r.row.classList.toggle('locked', locked);
    setErr(st, f.name, '');
    if (r.dnsOut) r.dnsOut.replaceChildren();
  }
  pwView(st);
  st.title.textContent = 'Line ' + line.line + (line.label ? ': ' + line.label : '');
  st.anyway.hidden = true;
  st.reload.hidden = true;
  markDirty(st);
  st.fresh = false;
  if (openLine === st.n) liveAll(st);
}

// The live checks of a whole panel: only the open one asks, when it opens.
function liveAll(st) {
  st.fresh = true;
  schedule(st, 'routing', () => liveRouting(st));
  for (const f of FIELDS) if (f.type === 'server' && st.saved[f.name]) schedule(st, f.name, () => liveResolve(st, f.name));
}

function formLine(st) {
  const o = { line: st.n };
  for (const f of FIELDS) {
    const i = st.inputs[f.name];
    if (!i) continue;
    if (f.type === 'server') {
      const host = i.value.trim();
      const port = st.inputs[f.name + '.port'].value.trim();
      o[f.name] = host === '' ? null
        : { host: host.replace(/^\[(.*)\]$/, '$1'), port: port === '' ? null : Number(port), transport: st.inputs[f.name + '.transport'].value };
    } else if (f.type === 'boolean') {
      o[f.name] = i.checked;
    } else if (f.type === 'integer') {
      o[f.name] = i.value.trim() === '' ? i.value : Number(i.value);
    } else if (f.type === 'password') {
      if (st.pw === 'replace' && i.value !== '') o.password = i.value;
      if (st.pw === 'clear') o.password = '';
    } else {
      o[f.name] = i.value;
    }
  }
  return o;
}

function same(a, b) {
  return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
}

function markDirty(st) {
  const now = formLine(st);
  let any = false;
  for (const f of FIELDS) {
    const changed = f.type === 'password' ? now.password !== undefined : !same(now[f.name], st.saved[f.name]);
    st.rows[f.name].row.classList.toggle('changed', changed);
    any = any || changed;
  }
  if (any !== st.dirty) {
    st.dirty = any;
    renderTab(st);
  } else if (!st.tab.firstChild) {
    renderTab(st);
  }
}

const dirtyLines = () => [...L.values()].filter((st) => st.dirty).map((st) => st.n);

function fieldOf(st, input) {
  for (const [k, i] of Object.entries(st.inputs)) if (i === input) return k.split('.')[0];
  return null;
}

function edited(st, input) {
  const name = fieldOf(st, input);
  if (!name) return;
  markDirty(st);
  st.result.textContent = '';
  setErr(st, name, syntax(st, name), syntaxPart(st, name));
  const f = fieldByName(name);
  st.seq[name] = (st.seq[name] || 0) + 1;  // an answer still out is about the old value
  if (f.type === 'server') schedule(st, name, () => liveResolve(st, name));
  if (name === 'dns_srv') {
    for (const g of FIELDS) if (g.type === 'server') schedule(st, g.name, () => liveResolve(st, g.name));
  }
  schedule(st, 'routing', () => liveRouting(st));
}

// A panel dropped meanwhile (logout, password change, import) asks nothing more.
function schedule(st, key, fn) {
  clearTimeout(st.timers[key]);
  st.timers[key] = setTimeout(() => { if (L.get(st.n) === st) fn(); }, DEBOUNCE_MS);
}

const bytes = (s) => new TextEncoder().encode(s).length;

// Syntax a person can be told at once, before the daemon answers; the daemon's
// own checks (POST /routing, POST /resolve) follow and have the last word.
function syntax(st, name) {
  const f = fieldByName(name);
  const i = st.inputs[name];
  if (f.type === 'server') {
    const h = i.value.trim();
    const port = st.inputs[name + '.port'].value.trim();
    if (h === '' && port !== '') return 'Give a host, or leave the port empty too.';
    if (/\s/.test(h)) return '\u2018' + h + '\u2019 is not a host name: it contains a space.';
    if (h !== '' && !/^\[?[A-Za-z0-9.:_-]+\]?$/.test(h)) return '\u2018' + h + '\u2019 is not a host name or an IP address.';
    if (/\.\.|^\.|^-|-\.|\.-/.test(h)) return '\u2018' + h + '\u2019 is not a host name: a part of it is empty or starts or ends with a hyphen.';
    if (port !== '' && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return 'The port is a number from 1 to 65535, or empty to let DNS decide.';
    return '';
  }
  if (f.type === 'integer') {
    const v = i.value.trim();
    if (!/^\d+$/.test(v) || Number(v) < f.min || Number(v) > f.max) return f.label + ' is a whole number from ' + f.min + ' to ' + f.max + '.';
    return '';
  }
  if (f.type === 'boolean') return '';
  const v = i.value;
  if (f.max_length && bytes(v) > f.max_length) return 'At most ' + f.max_length + ' bytes (this is ' + bytes(v) + ').';
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'Control characters are not allowed.';
  if (f.type === 'user' && /[\s@:<>"]/.test(v)) return 'A user name cannot contain spaces or the characters @ : < > ".';
  return '';
}

// part: 'port' or 'transport' of a server when the problem is there, else the field's main input.
const pathPart = (path) => (String(path || '').match(/\.(port|transport)$/) || [])[1] || '';

// The daemon's errors at their fields (a field's several errors together);
// keep: leave a field that already shows a problem as it is. Returns the fields named.
function errorsAt(st, errs, keep) {
  const names = [];
  for (const e of errs || []) {
    const name = String(e.field || '').split(/[.[]/)[0];
    const r = st.rows[name];
    if (!r || (keep && r.err.textContent)) continue;
    const again = names.indexOf(name) >= 0;
    setErr(st, name, (again ? r.err.textContent + ' ' : '') + e.message, pathPart(e.field));
    if (!again) names.push(name);
  }
  return names;
}
const syntaxPart = (st, name) => (/port/.test(syntax(st, name)) && st.inputs[name + '.port'].value.trim() !== '' ? 'port' : '');

function setErr(st, name, msg, part) {
  const r = st.rows[name];
  if (!r) return;
  r.err.textContent = msg ? human(msg) : '';
  const target = st.inputs[part ? name + '.' + part : name] || st.inputs[name];
  for (const i of inputsOf(st, name)) {
    if (msg && i === target) i.setAttribute('aria-invalid', 'true'); else i.removeAttribute('aria-invalid');
    describe(i, r);
  }
  r.row.classList.toggle('invalid', !!msg);
}

async function liveResolve(st, name) {
  const r = st.rows[name];
  const seq = (st.seq[name] || 0) + 1;
  st.seq[name] = seq;
  const s = formLine(st)[name];
  if (!s || syntax(st, name)) { r.dnsOut.replaceChildren(); describeAll(st, name); return; }
  r.dnsOut.replaceChildren(el('p', 'pending', 'Checking ' + s.host + ' in DNS\u2026'));
  const dnsSrv = st.inputs.dns_srv ? st.inputs.dns_srv.checked : true;
  const a = await api('POST', '/resolve', { server: s, dns_srv: dnsSrv });
  if (st.seq[name] !== seq || L.get(st.n) !== st) return;  // stale: a newer edit asked again
  if (sessionGone(a)) return;
  r.dnsOut.replaceChildren();
  if (a.status === 422) {
    setErr(st, name, (a.json.errors || []).map((e) => e.message).join(' ') || 'Not a valid server.');
  } else if (a.status === 200) {
    showResolution(r.dnsOut, a.json);
  } else {
    r.dnsOut.append(el('p', 'bad', 'The check failed: ' + why(a) + '.'));
  }
  describeAll(st, name);
}

function describeAll(st, name) {
  for (const i of inputsOf(st, name)) describe(i, st.rows[name]);
}

// quiet: the status is already the field's error message.
function showResolution(box, res, quiet) {
  if (!quiet) box.append(el('p', res.status === 'ok' ? 'ok' : 'bad', resolutionText(res)));
  for (const w of res.warnings || []) box.append(el('p', 'warn', human(w.message)));
  const looks = res.lookups || [];
  if (looks.length) {
    const d = el('details', 'lookups');
    d.append(el('summary', null, 'Lookups made (' + looks.length + ')'));
    const ul = el('ul');
    for (const k of looks) ul.append(el('li', null, k.type + ' ' + k.name + ': ' + k.outcome));
    d.append(ul);
    box.append(d);
  }
}

// "Registrations go to ...; calls go through ..." for the form as it stands.
async function liveRouting(st) {
  const seq = (st.seq.routing || 0) + 1;
  st.seq.routing = seq;
  const body = formLine(st);
  delete body.password;
  // What fails the quick check is already marked: ask with the saved value instead.
  for (const f of FIELDS) if (f.name in body && syntax(st, f.name)) body[f.name] = st.saved[f.name];
  const a = await api('POST', '/routing', body);
  if (st.seq.routing !== seq || L.get(st.n) !== st) return;
  if (sessionGone(a)) return;
  st.route.replaceChildren();
  if (a.status === 422) {
    errorsAt(st, a.json.errors, true);
    st.route.append(el('p', 'bad', 'Fix the fields marked above to see where requests go.'));
    return;
  }
  if (a.status !== 200) {
    st.route.append(el('p', 'bad', 'Cannot tell where requests go: ' + why(a) + '.'));
    return;
  }
  for (const t of routeSentences(a.json, body)) st.route.append(el('p', null, t));
}

function hopName(h) {
  const r = h.resolution;
  const host = r && r.server ? hostText(r.server) : '';
  let t = 'the ' + labelOf(h.field).toLowerCase() + ' ' + host;
  if (r && r.status === 'ok' && r.targets && r.targets.length) {
    const t0 = r.targets[0];
    const at = (t0.addresses || []).filter((a) => a !== t0.host);
    t += ' (' + (t0.host !== r.server.host ? t0.host + ' ' : '') + (at.length ? 'at ' + at[0] + ' ' : '') +
      'port ' + t0.port + ', ' + TRANSPORTS[t0.transport] + ')';
  } else if (r && r.status !== 'skipped') {
    t += ' (which does not resolve now)';
  }
  return t;
}

function hopsText(verb, hops) {
  const prim = hops.filter((h) => h.role === 'primary');
  const back = hops.filter((h) => h.role === 'backup');
  let t;
  if (prim.length > 1 && prim[0].field === 'outbound_proxy') {
    t = verb + ' through ' + hopName(prim[0]) + ' to ' + prim.slice(1).map(hopName).join(', then ');
  } else if (prim.length) {
    t = verb + ' to ' + prim.map(hopName).join(', then ');
  } else {
    t = verb + ' to no primary server';
  }
  if (back.length) t += '; when that does not answer, to ' + back.map(hopName).join(', then ');
  return t + '.';
}

function routeSentences(rt, body) {
  const out = [];
  const reg = rt.register || [];
  const inv = rt.invite || [];
  if (!reg.length && !inv.length) return ['No server is set: this line can neither register nor call.'];
  if (body.register === false) out.push('This line does not register.');
  else if (reg.length) out.push(hopsText('Registrations go', reg));
  if (inv.length) out.push(hopsText('Calls go', inv));
  if (body.enabled === false) out.push('The line is disabled: the phone uses none of this until it is enabled.');
  return out;
}

function announce(st, text, cls) {
  st.result.textContent = text;
  st.result.className = 'result ' + (cls || '');
  say(text, cls === 'bad');
}

async function saveLine(st, dns) {
  if (!st.etag) await st.loading;  // opened a moment ago: save with If-Match all the same
  // The save's own checks are newer than any live answer still on its way.
  for (const k of Object.keys(st.timers)) clearTimeout(st.timers[k]);
  for (const f of FIELDS) if (f.type === 'server') st.seq[f.name] = (st.seq[f.name] || 0) + 1;
  st.anyway.hidden = true;
  st.reload.hidden = true;
  const names = [];
  for (const f of FIELDS) {
    const bad = isLocked(st, f.name) ? '' : syntax(st, f.name);
    setErr(st, f.name, bad, bad && syntaxPart(st, f.name));
    if (bad) names.push(f.name);
  }
  if (names.length) return refused(st, names, 'Not saved');
  const body = formLine(st);
  announce(st, 'Checking DNS and saving\u2026', '');
  const hdr = st.etag ? { 'If-Match': st.etag } : {};
  const r = await api('PUT', '/lines/' + st.n + '?dns=' + dns, body, hdr);
  if (sessionGone(r)) return;
  if (r.status === 200) {
    st.etag = r.headers.get('ETag') || '';
    fill(st, r.json.line);
    loadStored(st);
    for (const w of r.json.warnings || []) {
      const name = String(w.field || '').split(/[.[]/)[0];
      const row = st.rows[name];
      if (row && row.dnsOut) row.dnsOut.prepend(el('p', 'warn', human(w.message)));
    }
    const warned = (r.json.warnings || []).length;
    announce(st, (r.json.changed ? 'Saved.' : 'Saved: nothing had changed.') +
      (warned ? ' With ' + warned + ' DNS warning' + (warned > 1 ? 's' : '') + ', shown at the fields.' : ''), warned ? 'warn' : 'ok');
    loadStatus();
    return;
  }
  if (r.status === 412) {
    st.reload.hidden = false;
    announce(st, 'Not saved: someone else changed line ' + st.n + ' since this page read it. Reload the line to see their version (your edits here are then lost).', 'bad');
    st.reload.focus();
    return;
  }
  const errs = r.json.errors || [];
  if ((r.status === 422 || r.status === 409) && errs.length) {
    const bad = errorsAt(st, errs, false);
    for (const c of r.json.checks || []) {
      const row = st.rows[c.field];
      if (row && row.dnsOut) { row.dnsOut.replaceChildren(); showResolution(row.dnsOut, c, c.status !== 'ok'); describeAll(st, c.field); }
    }
    const dnsOnly = errs.every((e) => /^dns_/.test(e.code || ''));
    if (dnsOnly && dns === 'require') {
      st.anyway.hidden = false;
      return refused(st, bad, 'Not saved: only the DNS check failed', 'You can fix the server, or save anyway: the phone then keeps trying.');
    }
    return refused(st, bad, r.status === 409 ? 'Not saved: locked fields' : 'Not saved');
  }
  announce(st, 'Not saved: ' + why(r) + '.', 'bad');
}

function refused(st, names, head, tail) {
  const labels = names.map(labelOf);
  announce(st, head + (labels.length ? ' (' + labels.join(', ') + ')' : '') + '. ' + (tail || 'See the message at each marked field.'), 'bad');
  // The input marked invalid (the port, say), its field's message in the middle
  // of the view: on a phone the Save bar covers the bottom of the screen.
  const ins = names.length ? inputsOf(st, names[0]) : [];
  const first = ins.find((i) => i.getAttribute('aria-invalid')) || ins[0];
  const ok = first && !first.disabled;
  (ok ? first : st.result).focus({ preventScroll: ok });
  if (ok) st.rows[names[0]].row.scrollIntoView({ block: 'center' });
}

async function resetLine(st, resetBtn) {
  st.confirm.hidden = true;
  const r = await api('DELETE', '/lines/' + st.n);
  if (sessionGone(r)) return;
  if (r.status === 200) {
    st.etag = r.headers.get('ETag') || '';
    fill(st, r.json.line || r.json);
    loadStored(st);
    announce(st, 'Line ' + st.n + ' is back to factory defaults.', 'ok');
    loadStatus();
  } else {
    announce(st, 'Not reset: ' + why(r) + '.', 'bad');
  }
  resetBtn.focus();
}

async function changePassword(ev) {
  ev.preventDefault();
  const [cur, nw, nw2] = ['pw-cur', 'pw-new', 'pw-new2'].map($);
  let r = { status: -1, json: { detail: 'the two new passwords differ' } };
  if (nw.value === nw2.value) r = await api('PUT', '/admin/password', { current: cur.value, new: nw.value });
  for (const i of [cur, nw, nw2]) { i.removeAttribute('aria-invalid'); i.removeAttribute('aria-describedby'); }
  if (r.status === 204) {
    for (const i of [cur, nw, nw2]) i.value = '';
    $('pw-msg').textContent = '';
    L.clear();
    showLogin('');
    say('The admin password is changed: log in with the new one.');
    return;
  }
  // A wrong current password is a 403 like a lost session token: told apart by its title.
  const wrong = r.status === 403 && /current/i.test(r.json.title || '');
  if (!wrong && r.status !== 422 && r.status !== -1 && sessionGone(r)) return;
  const bad = wrong ? cur : r.status === -1 ? nw2 : nw;
  $('pw-msg').textContent = 'Not changed: ' + (wrong ? 'the current password is wrong' : why(r)) + '.';
  bad.setAttribute('aria-invalid', 'true');
  bad.setAttribute('aria-describedby', 'pw-msg');
  bad.focus();
  say($('pw-msg').textContent, true);
}

async function exportConfig() {
  const r = await api('GET', '/config');
  if (sessionGone(r)) return;
  if (r.status !== 200) { say('Export failed: HTTP ' + r.status + '.', true); return; }
  const blob = new Blob([JSON.stringify(r.json, null, 2) + '\n'], { type: 'application/json' });
  const a = el('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'sipcfg-config.json';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  say('Exported the configuration of ' + r.json.lines.length + ' lines.');
}

let pendingImport = null;

function showVal(f, v) {
  if (v === undefined || v === null || v === '') return f && f.type === 'server' ? 'not set' : 'empty';
  if (f && f.type === 'server') return hostText(v) + (v.transport !== 'auto' ? ' ' + TRANSPORTS[v.transport] : '');
  if (f && f.type === 'boolean') return v ? 'on' : 'off';
  if (Array.isArray(v)) return v.map(labelOf).join(', ') || 'none';
  return '\u2018' + v + '\u2019';
}

function importChanges(after) {
  const out = [];
  for (const nl of after) {
    const st = L.get(nl.line);
    const old = st ? st.saved : {};
    const bits = [];
    for (const f of FIELDS) {
      if (f.type === 'password') {
        if (!!old.password_set !== !!nl.password_set) bits.push(f.label + (nl.password_set ? ' set' : ' cleared'));
      } else if (!same(old[f.name], nl[f.name])) {
        bits.push(f.label + ': ' + showVal(f, old[f.name]) + ' \u2192 ' + showVal(f, nl[f.name]));
      }
    }
    if (nl.locked && !same(old.locked || [], nl.locked)) bits.push('locked fields: ' + showVal(null, nl.locked));
    if (bits.length) out.push(['Line ' + nl.line, bits]);
  }
  return out;
}

async function importFile() {
  const out = $('import-out');
  const file = $('import-file').files[0];
  pendingImport = null;
  $('import-apply').hidden = true;
  out.replaceChildren();
  if (!file) return;
  const text = await file.text();
  $('import-file').value = '';  // the same file picked again is read again
  try { JSON.parse(text); } catch (e) {
    out.append(el('p', 'bad', file.name + ' is not a JSON file: ' + e.message));
    return;
  }
  out.append(el('p', 'pending', 'Checking ' + file.name + '\u2026'));
  const r = await api('PUT', '/config?dry_run=true', text);
  if (sessionGone(r)) return;
  out.replaceChildren();
  if (r.status !== 200) {
    out.append(el('p', 'bad', file.name + ' cannot be imported:'));
    const ul = el('ul', 'bad');
    for (const e of r.json.errors || [{ message: r.json.detail || r.json.title || 'HTTP ' + r.status }]) ul.append(el('li', null, human(e.message) + (e.field ? ' (' + human(e.field) + ')' : '')));
    out.append(ul);
    say(file.name + ' cannot be imported.', true);
    return;
  }
  const changes = importChanges(r.json.lines || []);
  if (!changes.length) {
    out.append(el('p', 'ok', 'Importing ' + file.name + ' would change nothing.'));
    say('Importing ' + file.name + ' would change nothing.');
    return;
  }
  out.append(el('p', null, 'Importing ' + file.name + ' would change:'));
  const ul = el('ul', 'changes');
  for (const [head, bits] of changes) ul.append(el('li', null, head + ': ' + bits.join('; ') + '.'));
  out.append(ul);
  pendingImport = text;
  $('import-apply').hidden = false;
  say('Checked ' + file.name + ': ' + changes.length + ' line' + (changes.length > 1 ? 's' : '') + ' would change. Apply it to store it.');
}

async function applyImport() {
  if (!pendingImport) return;
  const r = await api('PUT', '/config', pendingImport);
  if (sessionGone(r)) return;
  if (r.status === 200) {
    pendingImport = null;
    $('import-apply').hidden = true;
    $('import-out').replaceChildren(el('p', 'ok', 'Imported.'));
    await loadAll(false);
    $('import-file').focus();  // the Apply button it was on is gone
    say('Imported: the lines now show the new configuration.');
    return;
  }
  $('import-out').append(el('p', 'bad', 'Not imported: ' + why(r)));
  say('Not imported.', true);
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
