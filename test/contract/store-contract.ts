// The Store contract suite: every Store implementation runs these same tests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TEMPLATE_CONFIG, type SandboxRecord, type Store } from '../../src/store/store.js';

function sandbox(id: string, overrides: Partial<SandboxRecord> = {}): SandboxRecord {
  return {
    id,
    templateId: 'base',
    backend: 'namespaces',
    state: 'running',
    desiredState: 'running',
    metadata: {},
    envVars: {},
    accessToken: `token-${id}`,
    startedAtMs: 1000,
    endAtMs: 10_000,
    cpuCount: 2,
    memoryMiB: 512,
    diskMiB: 0,
    pidsLimit: 512,
    runtime: { hostPid: 1 },
    endedAtMs: null,
    endReason: null,
    ...overrides,
  };
}

export function runStoreContract(name: string, open: () => Promise<Store>): void {
  test(`${name}: sandboxes insert, update and read back`, async () => {
    const store = await open();
    try {
      await store.insertSandbox(sandbox('a', { metadata: { k: 'v' }, envVars: { X: '1' } }));
      const updated = await store.updateSandbox('a', { state: 'killed', endReason: 'test' });
      assert.equal(updated?.state, 'killed');
      const read = await store.getSandbox('a');
      assert.deepEqual(read?.metadata, { k: 'v' });
      assert.deepEqual(read?.envVars, { X: '1' });
      assert.deepEqual(read?.runtime, { hostPid: 1 });
      assert.equal(read?.endReason, 'test');
      assert.equal(await store.getSandbox('missing'), undefined);
      assert.equal(await store.updateSandbox('missing', { state: 'killed' }), undefined);
    } finally {
      await store.close();
    }
  });

  test(`${name}: list filters by state, metadata and cursor`, async () => {
    const store = await open();
    try {
      await store.insertSandbox(sandbox('s1', { startedAtMs: 1, metadata: { team: 'red' } }));
      await store.insertSandbox(sandbox('s2', { startedAtMs: 2, metadata: { team: 'red', "we'ird\"key": 'x' } }));
      await store.insertSandbox(sandbox('s3', { startedAtMs: 3, metadata: { team: 'blue' } }));
      await store.insertSandbox(sandbox('s4', { startedAtMs: 4, state: 'killed' }));
      await store.insertSandbox(sandbox('s5', { startedAtMs: 5, state: 'pooled' }));
      const running = await store.listSandboxes({ states: ['running'] });
      assert.deepEqual(running.map((s) => s.id), ['s1', 's2', 's3']);
      assert.deepEqual((await store.listSandboxes({ states: ['running'], metadata: { team: 'red' } })).map((s) => s.id), ['s1', 's2']);
      assert.deepEqual((await store.listSandboxes({ metadata: { "we'ird\"key": 'x' } })).map((s) => s.id), ['s2']);
      assert.deepEqual((await store.listSandboxes({ states: ['running', 'pooled'], templateId: 'base' })).map((s) => s.id), ['s1', 's2', 's3', 's5']);
      assert.deepEqual(await store.listSandboxes({ templateId: 'other' }), []);
      assert.deepEqual((await store.listSandboxes({ states: ['running'], after: { startedAtMs: 1, id: 's1' }, limit: 1 })).map((s) => s.id), ['s2']);
    } finally {
      await store.close();
    }
  });

  test(`${name}: templates by id or alias, api keys by hash, events`, async () => {
    const store = await open();
    try {
      await store.upsertTemplate({ id: 'tpl1', aliases: ['python'], layers: ['/x'], config: DEFAULT_TEMPLATE_CONFIG, buildMs: 5, createdAtMs: 1, cpuCount: 1, memoryMiB: 256, diskMiB: 0, pidsLimit: 0, sizeBytes: 10, status: 'ready' });
      assert.equal((await store.getTemplate('python'))?.id, 'tpl1');
      assert.deepEqual((await store.getTemplate('tpl1'))?.layers, ['/x']);
      assert.equal(await store.getTemplate('nope'), undefined);
      await store.upsertTemplate({ id: 'tpl1', aliases: ['python3'], layers: ['/y', '/z'], config: { ...DEFAULT_TEMPLATE_CONFIG, startCmd: 'serve' }, buildMs: 5, createdAtMs: 2, cpuCount: 1, memoryMiB: 256, diskMiB: 0, pidsLimit: 0, sizeBytes: 10, status: 'ready' });
      assert.equal(await store.getTemplate('python'), undefined);
      assert.equal((await store.getTemplate('python3'))?.config.startCmd, 'serve');
      assert.deepEqual((await store.getTemplate('python3'))?.layers, ['/y', '/z']);
      assert.equal((await store.listTemplates()).length, 1);
      assert.equal(await store.countApiKeys(), 0);
      await store.insertApiKey({ id: 'k1', keyHash: 'hash1', prefix: 'hearth_ab', createdAtMs: 1 });
      assert.equal((await store.findApiKeyByHash('hash1'))?.id, 'k1');
      assert.equal(await store.findApiKeyByHash('hash2'), undefined);
      await store.appendEvent({ atMs: 1, sandboxId: 'a', type: 'sandbox.created', detail: { n: 1 } });
      await store.appendEvent({ atMs: 2, sandboxId: 'b', type: 'sandbox.created', detail: {} });
      assert.deepEqual((await store.listEvents('a', 10)).map((e) => e.detail), [{ n: 1 }]);
      assert.equal((await store.listEvents(null, 10)).length, 2);
      await store.setPoolTarget({ templateId: 'base', target: 4 });
      await store.setPoolTarget({ templateId: 'base', target: 8 });
      await store.setPoolTarget({ templateId: 'py', target: 0 });
      assert.deepEqual(await store.listPoolTargets(), [{ templateId: 'base', target: 8 }, { templateId: 'py', target: 0 }]);
    } finally {
      await store.close();
    }
  });
}
