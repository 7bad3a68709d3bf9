// The microVM cache collector: unused entries past their age go, recent ones and those a paused guest needs stay,
// and builds abandoned by a dead process go at once.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { collectMicrovmCache, touchImage, touchSnapshot } from '../../src/backends/microvm/cache-collector.js';
import { testTempDir } from '../helpers/test-run.js';

const DAY_MS = 24 * 3600 * 1000;

test('old unused entries and abandoned builds go; recent, touched and paused-guest entries stay', async () => {
  const root = testTempDir('cache-');
  try {
    const microvmDir = path.join(root, 'microvm');
    const sandboxesDir = path.join(root, 'sandboxes');
    const images = path.join(microvmDir, 'images');
    const snapshots = path.join(microvmDir, 'snapshots');
    await fs.mkdir(images, { recursive: true });
    const old = new Date(Date.now() - 30 * DAY_MS);
    const file = async (name: string, when: Date): Promise<string> => {
      const target = path.join(images, name);
      await fs.writeFile(target, 'x');
      await fs.utimes(target, when, when);
      return target;
    };
    const oldRoot = await file('root-aaaa.ext4', old);
    const touchedRoot = await file('root-bbbb.ext4', old);
    const pausedRoot = await file('root-cccc.ext4', old);
    const recentRoot = await file('root-dddd.ext4', new Date());
    const deadBuild = await file('root-eeee.ext4.partial-999999999', new Date());
    const liveBuild = await file(`root-ffff.ext4.partial-${process.pid}`, new Date());
    const before = await fs.stat(touchedRoot, { bigint: true });
    await touchImage(touchedRoot);
    const after = await fs.stat(touchedRoot, { bigint: true });
    assert.equal(after.mtimeNs, before.mtimeNs, 'touching leaves the image alone (its mtime is part of snapshot identity)');
    assert.equal(after.ctimeNs, before.ctimeNs);
    const snapshot = async (name: string, when: Date): Promise<string> => {
      const dir = path.join(snapshots, name);
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(path.join(dir, 'header'), 'h');
      await fs.utimes(path.join(dir, 'header'), when, when);
      return dir;
    };
    const oldSnapshot = await snapshot('old', old);
    const usedSnapshot = await snapshot('used', old);
    await touchSnapshot(usedSnapshot);
    await fs.mkdir(path.join(sandboxesDir, 'sbx', 'paused'), { recursive: true });
    await fs.writeFile(path.join(sandboxesDir, 'sbx', 'paused', 'header'), `HRTHSNAP....{"rootImage":"root-cccc.ext4@123"}`);

    const { removed, freedBytes } = await collectMicrovmCache({ microvmDir, sandboxesDir, maxAgeMs: 7 * DAY_MS });
    assert.deepEqual(removed.sort(), [oldRoot, deadBuild, oldSnapshot].sort());
    assert.ok(freedBytes > 0);
    for (const kept of [touchedRoot, pausedRoot, recentRoot, liveBuild, usedSnapshot]) assert.ok(existsSync(kept), `${kept} is kept`);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
