// The admin console (GET /console) in a real headless Chromium (Debian's /usr/bin/chromium driven
// by playwright-core; no browser download), against a real zego-room-server (target/release) and
// two real engines (examples/console_demo). The story: a wrong secret is refused on the page; the
// right one connects with no room listed; two engines join and the room appears with 2 users and
// alice's stream without a reload; Kick on bob kicks bob's engine (1002055) and the page shows
// him gone. Every request the page makes goes to the admin listener and none carries the secret.
// Saves docs/console.png. Run by scripts/test.sh after the release build:
//   (cd tests/console && npm ci && node console.test.mjs)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const SERVER = path.join(TARGET, 'release/zego-room-server');
const DEMO = path.join(TARGET, 'release/examples/console_demo');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const APP_ID = '1234567';
const SECRET = 'console-test-secret-32-chars-ok!';
const ROOM = 'console-room';
const STEP = 10_000; // ms for any one step to show up
const started = Date.now();

// The whole test must end well under a minute, whatever hangs.
const watchdog = setTimeout(() => {
  console.error('console test: over 50 s, giving up');
  cleanup();
  process.exit(1);
}, 50_000);

const children = [];
let browser = null;
const profile = mkdtempSync(path.join(os.tmpdir(), 'zego-console-chromium-'));

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(profile, { recursive: true, force: true });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Lines a child prints on stdout, awaitable.
function lines(child) {
  const seen = [];
  const waiters = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    seen.push(l);
    for (const w of waiters.splice(0)) w();
  });
  return {
    seen,
    async wait(text) {
      const deadline = Date.now() + STEP;
      while (!seen.includes(text)) {
        assert.ok(Date.now() < deadline, `no "${text}" from ${path.basename(child.spawnfile)} (saw ${JSON.stringify(seen)})`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
      }
    },
  };
}

async function waitHealthy(admin) {
  const deadline = Date.now() + STEP;
  for (;;) {
    try {
      const r = await fetch(`http://${admin}/healthz`);
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    assert.ok(Date.now() < deadline, 'the server did not answer /healthz');
    await new Promise((r) => setTimeout(r, 50));
  }
}

try {
  const [wsPort, adminPort] = [await freePort(), await freePort()];
  const admin = `127.0.0.1:${adminPort}`;
  const server = spawn(SERVER, ['--listen', `127.0.0.1:${wsPort}`, '--admin-listen', admin, '--app-id', APP_ID,
    '--server-secret', SECRET, '--node-id', 'console-test', '--ping-interval', '1', '--heartbeat-timeout', '5'],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
  children.push(server);
  await waitHealthy(admin);

  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 640 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(STEP);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });

  const resp = await page.goto(`http://${admin}/console`);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-security-policy'] ?? '', /connect-src 'self'/);
  await page.getByText('node console-test', { exact: false }).waitFor();

  // A wrong secret: the signed API refuses it and the page says so.
  await page.fill('#secret', 'x'.repeat(32));
  await page.click('#connect');
  await page.locator('#status.error').waitFor();
  const refusal = await page.textContent('#status');
  assert.match(refusal, /Code 100000005\)/, refusal); // signature wrong

  // The right one: connected, no rooms yet.
  await page.fill('#secret', SECRET);
  await page.click('#connect');
  await page.locator('#status.ok').waitFor();
  assert.equal(await page.inputValue('#secret'), '', 'the secret is cleared from the field');
  assert.equal(await page.isVisible('#no-rooms'), true);

  // Two engines join while the page is open: the room shows up live.
  const demo = spawn(DEMO, [`ws://127.0.0.1:${wsPort}`, APP_ID, SECRET, ROOM], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(demo);
  const out = lines(demo);
  await out.wait('joined alice');
  await out.wait('joined bob');
  await out.wait('publishing alice-cam');
  const roomRow = page.locator(`#rooms tbody tr[data-room-id="${ROOM}"]`);
  await roomRow.locator('td.num').first().filter({ hasText: /^2$/ }).waitFor();
  await roomRow.locator('td.num').nth(1).filter({ hasText: /^1$/ }).waitFor();

  // The room's users and streams.
  await roomRow.click();
  await page.locator('#room-id').filter({ hasText: ROOM }).waitFor();
  await page.locator('#users tbody tr[data-user-id="bob"]').waitFor();
  await page.locator('#users tbody tr[data-user-id="alice"]').waitFor();
  await page.locator('#streams tbody tr[data-stream-id="alice-cam"]').waitFor();
  assert.equal(await page.locator('#users tbody tr').count(), 2);
  assert.match(await page.textContent('#streams tbody tr[data-stream-id="alice-cam"]'), /alice-cam\s*alice/);
  await page.screenshot({ path: path.join(ROOT, 'docs/console.png') });

  // Kick bob: his engine is told (1002055, kicked by the admin API) and the page shows him gone.
  await page.click('button[aria-label="KickoutUser bob"]');
  await out.wait('kicked bob 1002055');
  await page.locator('#users tbody tr[data-user-id="bob"]').waitFor({ state: 'detached' });
  await page.locator('#users tbody tr[data-user-id="alice"]').waitFor();
  await roomRow.locator('td.num').first().filter({ hasText: /^1$/ }).waitFor();
  await page.locator('#log li').filter({ hasText: 'KickoutUser bob from console-room: success' }).waitFor();
  assert.ok(!out.seen.some((l) => l.startsWith('kicked alice')), `alice stays: ${out.seen}`);

  // Everything the page fetched came from the admin listener, and no request carried the secret.
  assert.ok(requests.length > 5, `${requests.length} requests`);
  for (const u of requests) {
    assert.ok(u.startsWith(`http://${admin}/`), u);
    assert.ok(!u.includes(SECRET) && !decodeURIComponent(u).includes(SECRET), `secret in ${u}`);
  }
  assert.deepEqual(pageErrors, []);

  demo.stdin.end();
  console.log(`console test: ok in ${((Date.now() - started) / 1000).toFixed(1)} s (${requests.length} requests; docs/console.png saved)`);
} catch (e) {
  console.error('console test FAILED:', e);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  if (browser) await browser.close().catch(() => {});
  cleanup();
}
