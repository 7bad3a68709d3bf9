// The dashboard in headless Chromium: it loads with the API key, shows a sandbox made with the SDK,
// its kill button works, pools can be resized, the latency histogram and the last bench chart render.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Sandbox } from 'e2b';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { PROJECT_ROOT, runCli, startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/sandbox-fixture.js';

const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');
let server: ServerProcess;
let browser: Browser;
let page: Page;

before(async () => {
  server = await startServer();
  useServerEnv(server);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
});
after(async () => {
  await browser?.close();
  await server.destroy();
});

test('the dashboard asks for the key once and refuses a wrong one', async () => {
  await page.goto(server.url);
  await page.fill('#api-key', 'wrong-key');
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#key-error:not([hidden])');
  assert.match(await page.textContent('#key-error') ?? '', /refused/);
  await page.fill('#api-key', server.apiKey);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#status.ok');
  await page.reload();
  await page.waitForSelector('#status.ok', { timeout: 5000 });
  assert.equal(await page.isHidden('#key-form'), true, 'the key is remembered across reloads');
});

test('a sandbox created through the SDK appears with its TTL, and its kill button kills it', async () => {
  const created = await Promise.all([Sandbox.create({ timeoutMs: 600_000 }), Sandbox.create(), Sandbox.create()]);
  const [sbx] = created;
  assert.ok(sbx);
  const row = `#sandboxes tr[data-sandbox-id="${sbx.sandboxId}"]`;
  await page.waitForSelector(row, { timeout: 5000 });
  const text = (await page.textContent(row)) ?? '';
  assert.match(text, /base/);
  assert.match(text, /9m \d+s|10m 0s/, `TTL left is shown: ${text}`);
  const bars = await page.$$('#histogram svg rect');
  assert.ok(bars.length > 0, 'the histogram renders bars');
  await page.waitForSelector('#histogram svg .percentile-p50', { state: 'attached' });
  await page.waitForSelector('#histogram svg .percentile-p99', { state: 'attached' });
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  await page.click(`${row} button.kill`);
  await page.waitForSelector(row, { state: 'detached', timeout: 5000 });
  await eventually(async () => !(await Sandbox.list().nextItems()).some((s) => s.sandboxId === sbx.sandboxId), 5000, 'the sandbox to be gone');
  await Promise.all(created.slice(1).map((s) => s.kill()));
});

test('resizing a pool from the dashboard changes its target', async () => {
  const form = '#pools tr[data-template-id="base"] form.resize';
  await page.fill(`${form} input[name=target]`, '3');
  await page.click(`${form} button[type=submit]`);
  await eventually(async () => {
    const pools = (await (await fetch(`${server.url}/admin/pools`, { headers: { 'x-api-key': server.apiKey } })).json()) as Array<{ templateId: string; target: number }>;
    return pools.find((pool) => pool.templateId === 'base')?.target === 3;
  }, 5000, 'the pool target to change');
  await page.waitForFunction(() => document.querySelector('#pools tr[data-template-id="base"] td:nth-child(2)')?.textContent === '3');
});

test('the last bench result is shown as a chart', async () => {
  const bench = await runCli(server, ['bench', '--quick', '--only', 'pool,exec', '--out', path.join(ARTIFACTS, 'bench')]);
  assert.equal(bench.code, 0, bench.stderr);
  await page.waitForSelector('#bench svg text', { timeout: 5000 });
  assert.match((await page.textContent('#bench')) ?? '', /create→first output, pool hit/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-with-bench.png'), fullPage: true });
});
