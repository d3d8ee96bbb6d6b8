// The page as a person uses it, in a real chromium: log in (wrong, then right),
// see the lines, get a field's error next to that field, save a server, see
// hostile labels as plain text, log out. Every step runs with the daemon's
// real headers (CSP, no digest challenge for the page's fetches). Run twice:
// the page as built into the daemon (www/'s modules bundled into one /app.js,
// scripts/www-bundle.sh) and www/'s modules as they are (sipcfgd --www www),
// so that a module that would not load on its own is seen too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TOP, ADMIN_PASS, startDaemon, launchBrowser, digest } from './lib.mjs';

const XSS1 = '"><img src=x onerror=alert(1)>';
const XSS2 = '</script><script>alert(2)</script>';

for (const www of [null, join(TOP, 'www')]) describe('sipcfgd page in chromium' + (www ? ', www/\'s modules unbundled (--www)' : ''), () => {
  let daemon, browser, page;
  const dialogs = [];        // native dialogs (alert, confirm, auth prompts) the page caused
  const consoleMsgs = [];    // everything the console said during the whole run
  const pageErrors = [];
  const challenges = [];     // responses that carried WWW-Authenticate
  const responses = [];

  before(async () => {
    daemon = await startDaemon(www ? ['--www', www] : []);
    browser = await launchBrowser();
    page = browser.context.pages()[0] || await browser.context.newPage();
    page.on('dialog', (d) => { dialogs.push(d.type() + ': ' + d.message()); d.dismiss().catch(() => {}); });
    page.on('console', (m) => consoleMsgs.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('response', async (r) => {
      const h = await r.allHeaders().catch(() => ({}));
      responses.push({ url: r.url(), status: r.status() });
      if (h['www-authenticate']) challenges.push(`${r.status()} ${r.url()}: ${h['www-authenticate']}`);
    });
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (daemon) {
      const { text } = await daemon.stop();
      assert.doesNotMatch(text, /AddressSanitizer|LeakSanitizer|runtime error/, 'sipcfgd ran clean: ' + text);
    }
  });

  it('shows the login form, with a CSP that forbids inline script', async () => {
    const res = await page.goto(daemon.base + '/');
    assert.equal(res.status(), 200);
    const csp = (await res.allHeaders())['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'|default-src 'self'/, 'CSP: ' + csp);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, 'CSP: ' + csp);
    await page.locator('#login').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#lines').isVisible(), false);
    assert.equal(await page.locator('#login-user').inputValue(), 'admin');
  });

  it('a wrong password shows an error on the page, with no browser password dialog', async () => {
    await page.fill('#login-pass', 'not-the-password');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST'),
      page.click('#login button[type=submit]'),
    ]);
    assert.equal(resp.status(), 401);
    assert.equal((await resp.allHeaders())['www-authenticate'], undefined, 'the 401 has no digest challenge');
    await page.locator('#status.bad').filter({ hasText: 'Wrong user name or password.' }).waitFor({ state: 'visible' });
    assert.equal(await page.locator('#login').isVisible(), true);
    assert.equal(await page.locator('#lines').isVisible(), false);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(challenges, []);
  });

  it('the right password lists the lines', async () => {
    await page.fill('#login-pass', ADMIN_PASS);
    await page.click('#login button[type=submit]');
    await page.locator('#lines').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#login').isVisible(), false);
    assert.equal(await page.locator('#logout').isVisible(), true);
    const api = await digest(daemon.base, 'GET', '/lines');
    assert.equal(api.status, 200);
    // One tab per line; only the open line's form is built (and shown).
    const tabs = page.locator('[role=tab]');
    assert.equal(await tabs.count(), api.json.lines.length);
    assert.equal(await tabs.count(), 3);
    assert.equal(await page.locator('form.line').count(), 1);
    const titles = await page.locator('.tab-title').allTextContents();
    assert.deepEqual(titles.map((t) => t.split(/[:( ]/).slice(0, 2).join(' ')), ['Line 1', 'Line 2', 'Line 3']);
    for (const name of ['proxy', 'registrar', 'outbound_proxy', 'backup_proxy', 'backup_registrar'])
      assert.equal(await page.locator(`#l1-${name}`).isVisible(), true, name + ' has an input');
    // Labels, help texts and vendor names come from lib/line.c's field table, served as /fields.json.
    const fr = await fetch(daemon.base + '/fields.json', { signal: AbortSignal.timeout(10000) });
    assert.equal(fr.status, 200);
    assert.match(fr.headers.get('content-type'), /^application\/json/);
    const proxy = (await fr.json()).find((f) => f.name === 'proxy');
    assert.ok(proxy && proxy.label && proxy.help, 'the table has the proxy');
    const gs = proxy.vendors && proxy.vendors.Grandstream;
    assert.ok(typeof gs === 'string' && gs.length > 0, 'Grandstream names the proxy: ' + JSON.stringify(proxy));
    const row = page.locator('#panel-1 [data-field=proxy]');
    assert.equal(await row.locator('legend').textContent(), proxy.label);
    assert.equal(await row.locator('.help').textContent(), proxy.help);
    await row.locator('.vendors summary').click();
    const also = await row.locator('.vendors p').textContent();
    assert.ok(also.startsWith('also called: ') && also.includes(`Grandstream \u2018${gs}\u2019`), also);
    assert.equal(await row.locator('.vendors p').isVisible(), true);
    mkdirSync(join(TOP, 'build/screenshots'), { recursive: true });
    await page.screenshot({ path: join(TOP, 'build/screenshots/logged-in.png'), fullPage: true });
  });

  it('a malformed proxy shows the API\'s message next to the proxy field and saves nothing', async () => {
    const before = await digest(daemon.base, 'GET', '/lines/1');
    // A label over 63 bytes: the page's own quick check lets it through, the daemon refuses it.
    await page.fill('#l1-proxy', 'a'.repeat(64) + '.example.com');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/lines/1') && r.request().method() === 'PUT'),
      page.locator('form.line[data-line="1"] button[type=submit]').click(),
    ]);
    assert.equal(resp.status(), 422);
    const problem = await resp.json();
    const err = problem.errors.find((e) => e.field.split(/[.[]/)[0] === 'proxy');
    assert.ok(err && err.message, 'the 422 names the proxy: ' + JSON.stringify(problem));
    const slot = page.locator('#l1-proxy-err');
    await slot.filter({ hasText: err.message }).waitFor({ state: 'visible' });
    assert.equal((await slot.textContent()).trim(), err.message);
    assert.equal(await page.locator('#l1-proxy').getAttribute('aria-invalid'), 'true');
    // The other fields carry no error.
    assert.equal(await page.locator('#l1-registrar-err').textContent(), '');
    assert.match(await page.locator('form.line[data-line="1"] .result').textContent(), /^Not saved/);
    const afterGet = await digest(daemon.base, 'GET', '/lines/1');
    assert.deepEqual(afterGet.json, before.json, 'nothing was stored');
    await page.screenshot({ path: join(TOP, 'build/screenshots/field-error.png'), fullPage: true });
  });

  it('an IP literal proxy saves, the page says so, and the API has it', async () => {
    await page.fill('#l1-proxy', '192.0.2.7');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/lines/1') && r.request().method() === 'PUT'),
      page.locator('form.line[data-line="1"] button[type=submit]').click(),
    ]);
    assert.equal(resp.status(), 200);
    const result = page.locator('form.line[data-line="1"] .result.ok');
    await result.filter({ hasText: 'Saved.' }).waitFor({ state: 'visible' });
    assert.equal(await page.locator('#l1-proxy').inputValue(), '192.0.2.7');
    assert.equal(await page.locator('#l1-proxy-err').textContent(), '');
    assert.equal(await page.locator('#l1-proxy').getAttribute('aria-invalid'), null);
    const line = await digest(daemon.base, 'GET', '/lines/1');
    assert.equal(line.status, 200);
    assert.equal(line.json.proxy.host, '192.0.2.7');
    // And it is still there after a reload of the page.
    await page.reload();
    await page.locator('#lines').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#l1-proxy').inputValue(), '192.0.2.7');
  });

  it('hostile labels and display names render as text, never as HTML', async () => {
    for (const [n, label, display] of [[2, XSS1, XSS2], [3, XSS2, XSS1]]) {
      const r = await digest(daemon.base, 'PUT', `/lines/${n}?dns=skip`,
        { label, display_name: display, proxy: '192.0.2.8' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.line.label, label);
      assert.equal(r.json.line.display_name, display);
    }
    await page.reload();
    await page.locator('#lines').waitFor({ state: 'visible' });
    // In the overview's tabs, and in each line's form once it is opened.
    await page.click('#tab-3');
    await page.click('#tab-2');
    for (const [t2, t3] of [['#tab-2 .tab-title', '#tab-3 .tab-title'],
      ['form.line[data-line="2"] .line-title', 'form.line[data-line="3"] .line-title']].map((p) => p.map((q) => page.locator(q)))) {
      assert.ok((await t2.textContent()).startsWith('Line 2: ' + XSS1), await t2.textContent());
      assert.ok((await t3.textContent()).startsWith('Line 3: ' + XSS2), await t3.textContent());
      // Visible verbatim, as a person reads it (the third line's form is hidden now).
      assert.ok((await t2.innerText()).includes(XSS1));
      if (await t3.isVisible()) assert.ok((await t3.innerText()).includes(XSS2));
    }
    assert.equal(await page.evaluate(() => document.querySelectorAll('img').length), 0);
    assert.equal(await page.evaluate(() => document.querySelectorAll('script').length), 1, 'only /app.js (the bundle, or the entry that imports the other modules)');
    assert.equal(await page.locator('.line-title *, .tab-title *').count(), 0, 'titles have no child elements');
    await page.waitForTimeout(300);  // give a (wrongly) injected handler the chance to fire
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
    // Saving such a line from the page keeps the texts byte-identical.
    await page.click('#tab-2');
    await page.fill('#l2-proxy', '192.0.2.9');
    const put = page.waitForResponse((r) => r.url().includes('/api/v1/lines/2') && r.request().method() === 'PUT');
    await page.locator('form.line[data-line="2"] button[type=submit]').click();
    await put;
    // After a save the page checks the saved servers and routing again; the
    // next test ends the session, so these must be answered first.
    const api = (path) => page.waitForResponse((r) => r.url().endsWith('/api/v1/' + path));
    const live = Promise.all([api('routing'), api('resolve')]);
    await page.locator('form.line[data-line="2"] .result.ok').filter({ hasText: 'Saved.' }).waitFor();
    await live;
    const l2 = await digest(daemon.base, 'GET', '/lines/2');
    assert.equal(l2.json.label, XSS1);
    assert.equal(l2.json.display_name, XSS2);
    assert.equal(l2.json.proxy.host, '192.0.2.9');
  });

  it('a session ended elsewhere brings the login form back on the next save, with no password dialog', async () => {
    const jar = (await browser.context.cookies(daemon.base)).map((c) => `${c.name}=${c.value}`).join('; ');
    const token = await page.evaluate(() => sessionStorage.getItem('sipcfg-csrf'));
    assert.ok(jar && token, 'logged in');
    const del = await fetch(daemon.base + '/api/v1/session', { method: 'DELETE', signal: AbortSignal.timeout(10000),
      headers: { Cookie: jar, 'X-CSRF-Token': token, 'X-Requested-With': 'sipcfg' } });
    await del.arrayBuffer();
    assert.equal(del.status, 204);
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/lines/2') && r.request().method() === 'PUT'),
      page.locator('form.line[data-line="2"] button[type=submit]').click(),
    ]);
    assert.equal(resp.status(), 401);
    assert.equal((await resp.allHeaders())['www-authenticate'], undefined, 'the page\'s 401 has no digest challenge');
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.locator('#status.bad').filter({ hasText: 'Your session has ended' }).waitFor({ state: 'visible' });
    assert.equal(await page.locator('#lines').isVisible(), false);
    assert.deepEqual(dialogs, []);
    // Log in again for what follows.
    await page.fill('#login-pass', ADMIN_PASS);
    await page.click('#login button[type=submit]');
    await page.locator('#lines').waitFor({ state: 'visible' });
  });

  it('logout returns to the login form and the old cookie no longer works', async () => {
    const cookies = await browser.context.cookies(daemon.base);
    assert.ok(cookies.length >= 1, 'logged in with a cookie');
    const jar = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const withCookie = () => fetch(daemon.base + '/api/v1/lines',
      { headers: { Cookie: jar, 'X-Requested-With': 'sipcfg' }, signal: AbortSignal.timeout(10000) });
    const live = await withCookie();
    await live.arrayBuffer();
    assert.equal(live.status, 200, 'the cookie works before logout');

    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.locator('#status').filter({ hasText: 'Logged out.' }).waitFor({ state: 'visible' });
    assert.equal(await page.locator('#lines').isVisible(), false);
    assert.equal(await page.locator('#logout').isVisible(), false);

    const dead = await withCookie();
    await dead.arrayBuffer();
    assert.equal(dead.status, 401, 'the old cookie is refused after logout');

    // The page's own fetch without a session: 401 without a digest challenge,
    // so chromium shows no password dialog.
    const st = await page.evaluate(async () => {
      const r = await fetch('/api/v1/lines', { headers: { 'X-Requested-With': 'sipcfg' } });
      return { status: r.status, challenge: r.headers.get('WWW-Authenticate') };
    });
    assert.deepEqual(st, { status: 401, challenge: null });
    // Control: automation without that header does get the challenge (so the check above can fail).
    const plain = await fetch(daemon.base + '/api/v1/lines', { signal: AbortSignal.timeout(10000) });
    await plain.arrayBuffer();
    assert.equal(plain.status, 401);
    assert.ok(plain.headers.get('www-authenticate'), 'a plain 401 challenges for digest');

    // A reload stays on the login form.
    await page.reload();
    await page.locator('#login').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#lines').isVisible(), false);
  });

  it('the whole run: no dialog, no challenge, no CSP violation, no 404, no script error', async () => {
    assert.deepEqual(dialogs, []);
    assert.deepEqual(challenges, []);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleMsgs.filter((m) => /Content Security Policy|Refused to/i.test(m)), []);
    assert.deepEqual(responses.filter((r) => r.status === 404), []);
    // The scripts it loaded: the one bundle, or every module of www/.
    const scripts = [...new Set(responses.map((r) => new URL(r.url).pathname).filter((p) => p.endsWith('.js')))].sort();
    assert.deepEqual(scripts, www ? readdirSync(www).filter((f) => f.endsWith('.js')).map((f) => '/' + f).sort() : ['/app.js']);
    // The icon the page names is served with an image type (no /favicon.ico 404 in the console).
    const icons = await page.evaluate(() => [...document.querySelectorAll('link[rel=icon]')].map((l) => l.href));
    assert.equal(icons.length, 1);
    const icon = await fetch(icons[0], { signal: AbortSignal.timeout(10000) });
    const bytes = await icon.arrayBuffer();
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.ok(bytes.byteLength > 0 && bytes.byteLength < 1024);
  });

  it('control: the CSP does block an inline script injected into the page', async () => {
    const out = await page.evaluate(async () => {
      const seen = [];
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.body.appendChild(s);
      await new Promise((r) => setTimeout(r, 200));
      return { ran: window.__inlineRan === true, seen };
    });
    assert.equal(out.ran, false, 'inline script did not run');
    assert.ok(out.seen.some((d) => d.startsWith('script-src')), 'violation reported: ' + out.seen);
  });
});
