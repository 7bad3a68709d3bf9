// `hearth bench --quick` runs every scenario against a real server, so the bench cannot rot.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startServer, type ServerProcess } from '../helpers/server-process.js';
import { testTempDir } from '../helpers/test-run.js';

let server: ServerProcess;
const outDir = testTempDir('bench-');
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.destroy();
  rmSync(outDir, { recursive: true, force: true });
});

test('quick bench measures every scenario and writes JSON and an SVG plot', async () => {
  const { code, stdout, stderr } = await runCli(server, ['bench', '--quick', '--out', outDir]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /create→first output, pool hit/);
  assert.match(stdout, /machine: \d+ cores/);
  assert.match(stdout, /page cache:/);
  assert.match(stderr, /create→first output \(cold\): \d+\/\d+/, 'progress is shown while it runs');
  const result = JSON.parse(readFileSync(path.join(outDir, 'latest.json'), 'utf8')) as Record<string, any>;
  for (const key of ['createPoolHit', 'createCold', 'execRoundTrip']) {
    assert.equal(result[key].runs, 10, key);
    assert.ok(result[key].p50Ms > 0 && result[key].p50Ms <= result[key].p99Ms, key);
  }
  assert.ok(result['ramp'].steps.length >= 1);
  assert.ok(result['ramp'].steps[0].createsPerSecond > 0);
  assert.equal(result['density'].sandboxes, 5);
  assert.ok(result['density'].meanPssKiB > 0);
  const bwrap = result['floors'].find((floor: { name: string }) => floor.name === 'bwrap');
  assert.ok(bwrap.latency.p50Ms > 0, 'the bwrap floor is measured in the same run');
  const svg = readdirSync(outDir).find((name) => name.endsWith('.svg'));
  assert.ok(svg);
  assert.match(readFileSync(path.join(outDir, svg), 'utf8'), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const pools = await (await fetch(`${server.url}/admin/pools`, { headers: { 'x-api-key': server.apiKey } })).json();
  assert.equal((pools as Array<{ target: number }>)[0]?.target, 2, 'the bench restores the pool target it changed');
});

test('bench refuses unknown scenarios with a clear message', async () => {
  const { code, stderr } = await runCli(server, ['bench', '--only', 'warp-drive']);
  assert.notEqual(code, 0);
  assert.match(stderr, /unknown scenario "warp-drive"/);
});
