// sipcfg page, the live checks of the open line's form: each server's DNS
// (POST /resolve) and where requests go, in words (POST /routing).
import { FIELDS, L, el, api, why, labelOf, human, TRANSPORTS, hostText } from './util.js';
import { inputsOf, describe, formLine, syntax, errorsAt, setErr } from './line.js';
import { sessionGone } from './app.js';

const DEBOUNCE_MS = 350;

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

// The live checks of a whole panel: only the open one asks, when it opens.
function liveAll(st) {
  st.fresh = true;
  schedule(st, 'routing', () => liveRouting(st));
  for (const f of FIELDS) if (f.type === 'server' && st.saved[f.name]) schedule(st, f.name, () => liveResolve(st, f.name));
}

// A panel dropped meanwhile (logout, password change, import) asks nothing more.
function schedule(st, key, fn) {
  clearTimeout(st.timers[key]);
  st.timers[key] = setTimeout(() => { if (L.get(st.n) === st) fn(); }, DEBOUNCE_MS);
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

export { describeAll, liveAll, liveResolve, liveRouting, schedule, showResolution };
