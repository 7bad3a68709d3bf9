// Control-plane request validation: E2B bodies become typed commands or clear invalid-argument errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors/hearth-error.js';
import { parseCreate, parseList, parseMetadataQuery } from '../../src/server/control-plane/request-parsing.js';

test('create: defaults, seconds to milliseconds, metadata and env vars', () => {
  assert.deepEqual(parseCreate({}, 300_000), {
    kind: 'create',
    templateId: 'base',
    timeoutMs: 300_000,
    metadata: {},
    envVars: {},
    autoPause: false,
    tools: [],
    limits: {},
    network: { allowOut: [], denyOut: [], rules: {}, allowPublicTraffic: true, maskRequestHost: null, secrets: [] },
  });
  const network = parseCreate({ allow_internet_access: false, network: { allowOut: ['*.Example.com', '1.2.3.4'], allowPublicTraffic: false }, secrets: ['KEY'] }, 1).network;
  assert.deepEqual(network.allowOut, ['*.example.com', '1.2.3.4/32']);
  assert.deepEqual(network.denyOut, ['0.0.0.0/0']);
  assert.equal(network.allowPublicTraffic, false);
  assert.deepEqual(network.secrets, ['KEY']);
  const command = parseCreate({ templateID: 'py', timeout: 60, metadata: { a: 'b' }, envVars: { X: '1' }, autoPause: true }, 300_000);
  assert.equal(command.timeoutMs, 60_000);
  assert.deepEqual(command.metadata, { a: 'b' });
  assert.deepEqual(command.envVars, { X: '1' });
  assert.equal(command.autoPause, true);
});

test('create: wrong types are refused with the field named', () => {
  assert.throws(() => parseCreate({ templateID: 5 }, 1), /templateID/);
  assert.throws(() => parseCreate({ timeout: 1.5 }, 1), /timeout/);
  assert.throws(() => parseCreate({ metadata: { a: 1 } }, 1), /metadata\.a/);
  assert.throws(() => parseCreate({ envVars: ['x'] }, 1), InvalidArgumentError);
  assert.throws(() => parseCreate('text', 1), InvalidArgumentError);
  assert.throws(() => parseCreate({ memoryMB: 8 }, 1), /memoryMB must be an integer from 64/);
  assert.throws(() => parseCreate({ cpuCount: 0 }, 1), /cpuCount/);
  assert.deepEqual(parseCreate({ cpuCount: 1, memoryMB: 256 }, 1).limits, { cpuCount: 1, memoryMiB: 256 });
});

test('list: metadata filter, states, limit and token', () => {
  const sdkEncoded = new URLSearchParams({ team: 'red', [encodeURIComponent('a b')]: encodeURIComponent('c&d=%') }).toString();
  assert.deepEqual(parseMetadataQuery(sdkEncoded), { team: 'red', 'a b': 'c&d=%' });
  assert.deepEqual(parseMetadataQuery('k=100%'), { k: '100%' });
  const command = parseList(new URL(`http://x/v2/sandboxes?metadata=${encodeURIComponent('team=red')}&state=running,paused&limit=5&nextToken=abc`));
  assert.deepEqual(command, { kind: 'list', metadata: { team: 'red' }, states: ['running', 'paused'], limit: 5, nextToken: 'abc' });
  assert.throws(() => parseList(new URL('http://x/?state=dead')), /state/);
  assert.throws(() => parseList(new URL('http://x/?limit=0')), /limit/);
});
