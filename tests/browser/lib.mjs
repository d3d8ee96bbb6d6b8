// Helpers of the browser tests (not a test file: node --test runs *.test.mjs only).
// Each test file starts its own sipcfgd (the ASan build, env SIPCFGD) on a free
// loopback port with a temp flash image, and Debian's chromium through
// playwright-core (never a downloaded browser). Everything started here is
// stopped by PID in stop(), which the test files call from after() hooks, so a
// failing test still cleans up.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const TOP = process.env.SIPCFG_TOP || resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SIPCFGD = process.env.SIPCFGD || join(TOP, 'build/asan/sipcfgd');
export const SIPCFG = process.env.SIPCFG || join(TOP, 'build/asan/sipcfg');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ADMIN_PASS = 'Browser-Test-Pass-1234';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A port the kernel says is free now (the daemon binds it a moment later;
// start() retries with another port when that bind loses a race).
function freePort(kind) {
  return new Promise((ok, fail) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.on('error', fail);
      s.bind(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
      return;
    }
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

function run(cmd, args, input) {
  return new Promise((ok, fail) => {
    const child = execFile(cmd, args, { timeout: 30000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else ok(stdout);
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

// One sipcfgd with its own flash image and admin password. The DNS server it
// is given is opts.dns (a dnsmasq from startDnsmasq) or an unused loopback
// port, so that nothing may leave the machine.
export async function startDaemon(extraArgs = [], opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sipcfg-browser-'));
  const flash = join(dir, 'flash.img');
  await run(SIPCFG, ['--flash', flash, 'passwd'], ADMIN_PASS + '\n');
  const log = join(dir, 'sipcfgd.log');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dns = opts.dns || `127.0.0.1:${await freePort('udp')}`;
    const fd = openSync(log, 'w');
    const child = spawn(SIPCFGD, ['--listen', `127.0.0.1:${port}`, '--flash', flash, '--lines', '3',
      '--dns-server', dns, '--dns-timeout-ms', '500', ...extraArgs],
    { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    let exited = false;
    child.on('exit', () => { exited = true; });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && !exited; i++) {  // bounded: 10 s
      try {
        const r = await fetch(base + '/', { signal: AbortSignal.timeout(2000) });
        await r.arrayBuffer();
        if (r.status === 200) {
          return { base, port, dir, log, child, stop: () => stopDaemon(child, dir, log) };
        }
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    if (!exited) {
      await stopDaemon(child, null, log);
      throw new Error('sipcfgd did not answer within 10 s: ' + readFileSync(log, 'utf8'));
    }
    if (!/cannot serve there|in use/i.test(readFileSync(log, 'utf8'))) break;
  }
  const why = readFileSync(log, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  throw new Error('sipcfgd did not start: ' + why);
}

// SIGTERM, a bounded wait, then SIGKILL. Returns the daemon's stderr, which
// the caller checks for sanitizer reports.
async function stopDaemon(child, dir, log) {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(t);
  }
  let text = '';
  try { text = readFileSync(log, 'utf8'); } catch { /* already gone */ }
  if (dir) rmSync(dir, { recursive: true, force: true });
  return { text, code: child.exitCode, signal: child.signalCode };
}

// The API as automation uses it: curl with HTTP digest (SHA-256).
export async function digest(base, method, path, body) {
  const args = ['-sS', '--max-time', '20', '--digest', '-u', 'admin:' + ADMIN_PASS, '-X', method,
    '-w', '\n%{http_code}', '-H', 'Accept: application/json'];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  args.push(base + '/api/v1' + path);
  const out = await run('curl', args);
  const cut = out.lastIndexOf('\n');
  const text = out.slice(0, cut);
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: Number(out.slice(cut + 1)), json, text };
}

// Debian's chromium with a fresh profile in a temp dir (removed by close()).
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'sipcfg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    viewport: { width: 1100, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context.setDefaultTimeout(15000);
  return {
    context,
    close: async () => {
      try { await context.close(); } finally { rmSync(profile, { recursive: true, force: true }); }
    },
  };
}

// A DNS query for NAME (type A) as bytes: enough to see that dnsmasq answers.
function dnsQuery(name) {
  const parts = name.split('.').map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)]));
  return Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...parts, Buffer.from([0, 0, 1, 0, 1])]);
}

function dnsAnswers(port) {
  return new Promise((ok) => {
    const s = createSocket('udp4');
    const done = (v) => { clearTimeout(t); s.close(); ok(v); };
    const t = setTimeout(() => done(false), 300);
    s.on('error', () => done(false));
    s.on('message', () => done(true));
    s.send(dnsQuery('probe.test'), port, '127.0.0.1');
  });
}

// A real dnsmasq on a free loopback port, answering only for *.test from its
// command line (ARGS: --srv-host=..., --host-record=...). Returns
// { server: '127.0.0.1:PORT', stop }.
export async function startDnsmasq(args) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort('udp');
    const child = spawn('/usr/sbin/dnsmasq', ['--keep-in-foreground', `--port=${port}`,
      '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts',
      '--conf-file=/dev/null', '--local=/test/', '--pid-file=', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    let exited = false;
    child.on('exit', () => { exited = true; });
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
    };
    for (let i = 0; i < 30 && !exited; i++) {  // bounded: about 9 s
      if (await dnsAnswers(port)) return { server: `127.0.0.1:${port}`, stop };
    }
    await stop();
    if (!/in use/i.test(err)) throw new Error('dnsmasq did not start: ' + err);
  }
  throw new Error('dnsmasq found no free port');
}
