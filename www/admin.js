// sipcfg page, the admin part: the admin password, export and import.
import { $, FIELDS, L, el, say, api, why, labelOf, human, TRANSPORTS, hostText, same } from './util.js';
import { showLogin, sessionGone, loadAll } from './app.js';

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
    $('import-file').focus();  // before the Apply button it is on goes, so it never falls to the body
    $('import-apply').hidden = true;
    $('import-out').replaceChildren(el('p', 'ok', 'Imported.'));
    await loadAll(false);
    say('Imported: the lines now show the new configuration.');
    return;
  }
  $('import-out').append(el('p', 'bad', 'Not imported: ' + why(r)));
  say('Not imported.', true);
}

export { applyImport, changePassword, exportConfig, importFile };
