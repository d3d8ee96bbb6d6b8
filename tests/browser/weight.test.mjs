// Page weight: every file the daemon serves for the page (index, what it names:
// the script, www/'s modules bundled, the style and the icon, and the generated
// /fields.json) stays under 50 KiB in all. The bytes
// are counted as a real daemon sends them, not as www/ holds them (the build
// embeds them without indentation: scripts/www-min.sh). settings.test.mjs counts
// what chromium actually downloads on a first load.
import { it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TOP, startDaemon } from './lib.mjs';

let daemon;
after(async () => { if (daemon) await daemon.stop(); });

it('everything the daemon serves for the page is under 50 KiB', async (t) => {
  daemon = await startDaemon();
  // The page and what it names (its script, style and icon), and the field table.
  const html = await (await fetch(daemon.base + '/', { signal: AbortSignal.timeout(10000) })).text();
  const named = [...html.matchAll(/ (?:href|src)="(\/[^"]*)"/g)].map((m) => m[1]);
  const paths = ['/index.html', ...named, '/fields.json'];
  assert.deepEqual(named.sort(), ['/app.css', '/app.js', '/favicon.svg'], 'one script: www/\'s modules bundled');
  // www/'s other modules are in /app.js, not served alone (a page that still
  // loaded them would get 404s, and its weight would be counted short)
  for (const f of readdirSync(join(TOP, 'www')).filter((x) => x.endsWith('.js') && x !== 'app.js')) {
    const r = await fetch(daemon.base + '/' + f, { signal: AbortSignal.timeout(10000) });
    await r.arrayBuffer();
    assert.equal(r.status, 404, f);
  }
  let total = 0;
  const sizes = [];
  for (const p of paths) {
    const r = await fetch(daemon.base + p, { signal: AbortSignal.timeout(10000) });
    assert.equal(r.status, 200, p);
    assert.equal(r.headers.get('content-encoding'), null, 'sent as is: the bytes counted are the bytes sent');
    const n = (await r.arrayBuffer()).byteLength;
    assert.ok(n > 0, p);
    total += n;
    sizes.push(p + ' ' + n);
  }
  t.diagnostic(`${total} bytes = ${(total / 1024).toFixed(1)} KiB (${sizes.join(', ')})`);
  assert.ok(total < 50 * 1024, `the page is ${total} bytes: ${sizes.join(', ')}`);
});
