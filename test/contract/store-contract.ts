// The Store contract suite: every Store implementation runs these same tests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_NETWORK_SETTINGS, DEFAULT_TEMPLATE_CONFIG, type SandboxRecord, type SnapshotRecord, type Store } from '../../src/store/store.js';

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
    network: DEFAULT_NETWORK_SETTINGS,
    endedAtMs: null,
    endReason: null,
    ...overrides,
  };
}

function snapshot(id: string, overrides: Partial<SnapshotRecord> = {}): SnapshotRecord {
  return {
    id,
    name: null,
    sourceSandboxId: 'src1',
    backend: 'gvisor',
    template: { id: 'base', aliases: ['base'], layers: ['/layers/a', '/layers/b'], config: DEFAULT_TEMPLATE_CONFIG, buildMs: 1, createdAtMs: 1, cpuCount: 2, memoryMiB: 512, diskMiB: 0, pidsLimit: 0, sizeBytes: 5, status: 'ready' },
    cpuCount: 1,
    memoryMiB: 256,
    pidsLimit: 128,
    envVars: { A: '1' },
    sizeBytes: 4096,
    createdAtMs: 100,
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

  test(`${name}: network settings round-trip with the sandbox`, async () => {
    const store = await open();
    try {
      const network = { ...DEFAULT_NETWORK_SETTINGS, address: '10.77.0.3', slotIndex: 2, allowOut: ['example.com'], denyOut: ['0.0.0.0/0'], secrets: ['API_KEY'] };
      await store.insertSandbox(sandbox('n', { network }));
      assert.deepEqual((await store.getSandbox('n'))?.network, network);
      await store.updateSandbox('n', { network: { ...network, secrets: [] } });
      assert.deepEqual((await store.getSandbox('n'))?.network.secrets, []);
    } finally {
      await store.close();
    }
  });

  test(`${name}: secrets are stored sealed, replaced by name and deleted`, async () => {
    const store = await open();
    try {
      await store.putSecret({ name: 'A', sealed: 'v1', createdAtMs: 1, updatedAtMs: 1 });
      await store.putSecret({ name: 'A', sealed: 'v2', createdAtMs: 5, updatedAtMs: 5 });
      await store.putSecret({ name: 'B', sealed: 'x', createdAtMs: 2, updatedAtMs: 2 });
      assert.deepEqual(await store.getSecret('A'), { name: 'A', sealed: 'v2', createdAtMs: 1, updatedAtMs: 5 });
      assert.deepEqual((await store.listSecrets()).map((secret) => secret.name), ['A', 'B']);
      assert.equal(await store.deleteSecret('A'), true);
      assert.equal(await store.deleteSecret('A'), false);
      assert.equal(await store.getSecret('A'), undefined);
    } finally {
      await store.close();
    }
  });

  test(`${name}: egress events are kept per sandbox, newest first`, async () => {
    const store = await open();
    try {
      await store.appendEgressEvent({ atMs: 1, sandboxId: 's1', action: 'allow', protocol: 'http', host: 'a.test', address: '10.0.0.1', port: 80, reason: 'allowOut a.test' });
      await store.appendEgressEvent({ atMs: 2, sandboxId: 's1', action: 'deny', protocol: 'dns', host: 'b.test', address: null, port: null, reason: 'denyOut b.test' });
      await store.appendEgressEvent({ atMs: 3, sandboxId: 's2', action: 'deny', protocol: 'tcp', host: null, address: '1.2.3.4', port: 22, reason: 'x' });
      const events = await store.listEgressEvents('s1', 10);
      assert.deepEqual(events.map((event) => [event.action, event.host]), [['deny', 'b.test'], ['allow', 'a.test']]);
      assert.equal((await store.listEgressEvents('s1', 1)).length, 1);
    } finally {
      await store.close();
    }
  });

  test(`${name}: snapshots by id or name; a name moves to the newest; list filters and pages; delete`, async () => {
    const store = await open();
    try {
      await store.insertSnapshot(snapshot('snap-1', { name: 'warm', createdAtMs: 1 }));
      assert.deepEqual(await store.getSnapshot('snap-1'), snapshot('snap-1', { name: 'warm', createdAtMs: 1 }));
      assert.equal((await store.getSnapshot('warm'))?.id, 'snap-1');
      await store.insertSnapshot(snapshot('snap-2', { name: 'warm', createdAtMs: 2, sourceSandboxId: 'src2' }));
      await store.insertSnapshot(snapshot('snap-3', { createdAtMs: 3 }));
      assert.equal((await store.getSnapshot('warm'))?.id, 'snap-2', 'the name moved to the newer snapshot');
      assert.equal((await store.getSnapshot('snap-1'))?.name, null, 'the older one keeps its id only');
      assert.equal(await store.getSnapshot('nope'), undefined);
      assert.deepEqual((await store.listSnapshots({})).map((s) => s.id), ['snap-1', 'snap-2', 'snap-3']);
      assert.deepEqual((await store.listSnapshots({ sourceSandboxId: 'src1' })).map((s) => s.id), ['snap-1', 'snap-3']);
      assert.deepEqual((await store.listSnapshots({ idOrName: 'warm' })).map((s) => s.id), ['snap-2']);
      assert.deepEqual((await store.listSnapshots({ idOrName: 'snap-3' })).map((s) => s.id), ['snap-3']);
      assert.deepEqual((await store.listSnapshots({ after: { createdAtMs: 1, id: 'snap-1' }, limit: 1 })).map((s) => s.id), ['snap-2']);
      assert.deepEqual((await store.getSnapshot('snap-3'))?.template.layers, ['/layers/a', '/layers/b']);
      assert.equal(await store.deleteSnapshot('snap-2'), true);
      assert.equal(await store.deleteSnapshot('snap-2'), false);
      assert.equal(await store.getSnapshot('warm'), undefined);
      await store.insertSnapshot(snapshot('snap-4', { name: 'warm', createdAtMs: 4 }));
      assert.equal((await store.getSnapshot('warm'))?.id, 'snap-4', 'a deleted snapshot’s name is free again');
    } finally {
      await store.close();
    }
  });
}
