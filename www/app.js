// sipcfg page: log in, list the lines, edit and save each line's servers.
// Text is only ever set with textContent (never parsed as HTML), and every call
// sends X-Requested-With so that a 401 never makes the browser show its own
// password dialog (the daemon then omits the digest challenge).
'use strict';

// The server fields with their labels, help texts and vendor names come from
// lib/line.c's one field table, generated at build time as /fields.json.
let SERVER_FIELDS = [];
let fieldsReady = null;

function loadFields() {
  if (!fieldsReady) {
    fieldsReady = fetch('/fields.json', { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status))))
      .then((all) => { SERVER_FIELDS = (Array.isArray(all) ? all : []).filter((f) => f.type === 'server'); })
      .catch((e) => { fieldsReady = null; throw e; });
  }
  return fieldsReady;
}

// {"Snom": "Registrar", ...} -> "also called: Snom 'Registrar', ..."
function vendorText(v) {
  const names = Object.keys(v || {}).map((k) => k + " '" + v[k] + "'");
  return names.length ? 'also called: ' + names.join(', ') : '';
}

let csrf = sessionStorage.getItem('sipcfg-csrf') || '';

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function say(text, bad) {
  const s = $('status');
  s.textContent = text || '';
  s.className = bad ? 'bad' : '';
}

async function api(method, path, body) {
  const headers = { 'X-Requested-With': 'sipcfg', 'Accept': 'application/json' };
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch (e) {
    return { status: 0, json: { detail: 'The phone does not answer: ' + e.message } };
  }
  let json = null;
  const type = res.headers.get('Content-Type') || '';
  if (type.indexOf('json') >= 0) {
    try { json = await res.json(); } catch (e) { json = null; }
  }
  return { status: res.status, json: json || {}, headers: res.headers };
}

// {"host","port","transport"} -> the string a person types back.
function serverText(s) {
  if (!s) return '';
  let host = s.host.indexOf(':') >= 0 ? '[' + s.host + ']' : s.host;
  if (s.port) host += ':' + s.port;
  if (s.transport === 'tls') return 'sips:' + host;
  if (s.transport === 'tcp' || s.transport === 'udp') return 'sip:' + host + ';transport=' + s.transport;
  return host;
}

function showLogin(message) {
  csrf = '';
  sessionStorage.removeItem('sipcfg-csrf');
  $('lines').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  say(message || '', !!message);
  $('login-pass').focus();
}

// Answers shared by every call: back to the login form when the session is gone.
function sessionGone(r) {
  if (r.status === 401 || (r.status === 403 && !csrf)) {
    showLogin('Your session has ended: please log in again.');
    return true;
  }
  return false;
}

async function login(ev) {
  ev.preventDefault();
  const user = $('login-user').value;
  const pass = $('login-pass').value;
  const r = await api('POST', '/session', { username: user, password: pass });
  $('login-pass').value = '';
  if (r.status === 201 && r.json.csrf_token) {
    csrf = r.json.csrf_token;
    sessionStorage.setItem('sipcfg-csrf', csrf);
    $('login').hidden = true;
    say('');
    loadLines();
    return;
  }
  if (r.status === 429) {
    const wait = r.headers && r.headers.get('Retry-After');
    say('Too many failed logins from here: try again in ' + (wait || 'a few') + ' seconds.', true);
  } else if (r.status === 401) {
    say('Wrong user name or password.', true);
  } else {
    say((r.json && (r.json.detail || r.json.title)) || ('Login failed (HTTP ' + r.status + ').'), true);
  }
}

async function logout() {
  await api('DELETE', '/session');
  showLogin('');
  say('Logged out.');
}

async function loadLines() {
  try {
    await loadFields();
  } catch (e) {
    say('Cannot read the field table (/fields.json): ' + e.message, true);
    return;
  }
  const r = await api('GET', '/lines');
  if (sessionGone(r)) return;
  if (r.status !== 200 || !Array.isArray(r.json.lines)) {
    say('Cannot read the lines (HTTP ' + r.status + ').', true);
    return;
  }
  $('login').hidden = true;
  $('logout').hidden = false;
  $('lines').hidden = false;
  const list = $('line-list');
  list.replaceChildren();
  for (const line of r.json.lines) list.appendChild(lineForm(line));
}

function lineTitle(line) {
  let t = 'Line ' + line.line;
  const names = [line.label, line.display_name].filter((x) => x);
  if (names.length) t += ': ' + names.join(' \u2013 ');
  if (line.user) t += ' (' + line.user + (line.domain ? '@' + line.domain : '') + ')';
  if (!line.enabled) t += ' (disabled)';
  return t;
}

function lineForm(line) {
  const form = $('line-tpl').content.firstElementChild.cloneNode(true);
  form.dataset.line = String(line.line);
  form.querySelector('.line-title').textContent = lineTitle(line);
  const fields = form.querySelector('.fields');
  for (const f of SERVER_FIELDS) {
    const name = f.name;
    const row = el('div', 'field');
    const id = 'l' + line.line + '-' + name;
    const lab = el('label', null, f.label);
    lab.htmlFor = id;
    const input = el('input');
    input.id = id;
    input.name = name;
    input.value = serverText(line[name]);
    input.placeholder = 'not set';
    input.spellcheck = false;
    input.autocomplete = 'off';
    row.append(lab, input, el('span', 'help', f.help));
    const also = vendorText(f.vendors);
    if (also) row.appendChild(el('span', 'vendors', also));
    row.appendChild(el('span', 'field-error'));
    fields.appendChild(row);
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); saveLine(form, line); });
  return form;
}

function clearResult(form) {
  form.querySelector('.result').textContent = '';
  form.querySelector('.result').className = 'result';
  form.querySelector('.errors').replaceChildren();
  form.querySelector('.checks').replaceChildren();
  for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
  for (const e of form.querySelectorAll('input')) e.classList.remove('invalid');
}

function describeCheck(c) {
  let t = (c.field ? c.field + ': ' : '') + serverText(c.server) + ' - ' + c.status;
  if (c.method) t += ' (' + c.method + ')';
  const targets = (c.targets || []).map((x) => {
    let s = x.host + ':' + x.port + ' ' + x.transport;
    if (c.method === 'srv' || c.method === 'naptr') s += ' prio ' + x.priority + ' weight ' + x.weight;
    if (x.addresses && x.addresses.length) s += ' -> ' + x.addresses.join(', ');
    return s;
  });
  if (targets.length) t += ': ' + targets.join('; ');
  return t;
}

function showChecks(form, checks) {
  const ul = form.querySelector('.checks');
  for (const c of checks || []) ul.appendChild(el('li', c.status === 'ok' ? 'ok' : 'bad', describeCheck(c)));
}

function showProblems(form, items, cls) {
  const ul = form.querySelector('.errors');
  for (const e of items || []) {
    const name = String(e.field || '').split(/[.[]/)[0];
    const input = form.querySelector('input[name="' + CSS.escape(name) + '"]');
    if (input) {
      if (cls === 'bad') input.classList.add('invalid');
      const slot = input.parentElement.querySelector('.field-error');
      slot.textContent = (slot.textContent ? slot.textContent + ' ' : '') + e.message;
      slot.className = 'field-error ' + cls;
    } else {
      ul.appendChild(el('li', cls, (e.field ? e.field + ': ' : '') + e.message));
    }
  }
}

async function saveLine(form, line) {
  clearResult(form);
  const body = Object.assign({}, line);
  delete body.password_set;
  for (const { name } of SERVER_FIELDS) {
    const v = form.querySelector('input[name="' + name + '"]').value.trim();
    body[name] = v === '' ? null : v;
  }
  const policy = form.querySelector('select[name="dns"]').value;
  const result = form.querySelector('.result');
  result.textContent = 'Checking DNS and saving...';
  const r = await api('PUT', '/lines/' + line.line + '?dns=' + encodeURIComponent(policy), body);
  if (sessionGone(r)) return;
  result.textContent = '';
  if (r.status === 200) {
    Object.assign(line, r.json.line || {});
    for (const { name } of SERVER_FIELDS)
      form.querySelector('input[name="' + name + '"]').value = serverText(line[name]);
    form.querySelector('.line-title').textContent = lineTitle(line);
    result.textContent = r.json.changed ? 'Saved.' : 'Nothing changed.';
    result.className = 'result ok';
    showProblems(form, r.json.warnings, 'warn');
    showChecks(form, r.json.checks);
    return;
  }
  result.className = 'result bad';
  if (r.status === 422) {
    result.textContent = 'Not saved: ' + (r.json.detail || 'some fields are wrong') + '.';
    showProblems(form, r.json.errors, 'bad');
    showChecks(form, r.json.checks);
  } else if (r.status === 403) {
    showLogin('The page lost its session token: please log in again.');
  } else {
    result.textContent = 'Not saved: ' + (r.json.detail || r.json.title || ('HTTP ' + r.status)) + '.';
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('login').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  if (csrf) loadLines(); else showLogin('');
});
