// sipcfg page, one line's form: built from /fields.json when its tab is first
// opened, filled from the line, checked as typed, saved with If-Match, reset.
import { $, FIELDS, L, el, btn, input, say, api, why, fieldByName, labelOf, human, TRANSPORTS, same } from './util.js';
import { liveAll, schedule, liveResolve, describeAll, showResolution, liveRouting } from './checks.js';
import { openLine, sessionGone, loadStatus, renderTab, loadStored } from './app.js';

const SOURCES = { image: 'the flash image', api: 'the REST API', page: 'this page' };

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

export { buildPanel, describe, dirtyLines, errorsAt, formLine, inputsOf, setErr, syntax };
