// Page weight: everything in www/ (what the daemon embeds and serves) stays
// under 50 KiB, and what a browser downloads for the page is all of it, no more.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TOP } from './lib.mjs';

it('all of www/ is under 50 KiB', () => {
  const dir = join(TOP, 'www');
  const files = readdirSync(dir);
  assert.ok(files.includes('index.html') && files.includes('app.js') && files.includes('app.css'));
  let total = 0;
  for (const f of files) total += statSync(join(dir, f)).size;
  assert.ok(total > 0 && total < 50 * 1024, `www/ is ${total} bytes`);
});
