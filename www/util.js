// sipcfg page, what every module shares: DOM helpers, the status line, the
// API call, the field table (/fields.json) and its labels, the line states.
// Every call sends X-Requested-With so that a 401 never makes the browser
// show its own password dialog (the daemon then omits the digest challenge).

const $ = (id) => document.getElementById(id);
let FIELDS = [];          // lib/line.c's field table, as /fields.json serves it
let csrf = sessionStorage.getItem('sipcfg-csrf') || '';
const setCsrf = (t) => { csrf = t; };  // importers cannot assign it
const L = new Map();      // line number -> state of its panel (see addLine)

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

function hostText(s) {
  const h = s.host.indexOf(':') >= 0 ? '[' + s.host + ']' : s.host;
  return s.port ? h + ':' + s.port : h;
}

async function loadFields() {
  if (FIELDS.length) return;
  const r = await fetch('/fields.json', { credentials: 'same-origin' });
  if (!r.ok) throw new Error('HTTP ' + r.status);
  FIELDS = await r.json();
}

function same(a, b) {
  return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
}

export { $, FIELDS, L, TRANSPORTS, api, btn, csrf, el, fieldByName, hostText, human, input, labelOf, loadFields, same, say, why, setCsrf };
