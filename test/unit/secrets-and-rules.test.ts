import assert from 'node:assert/strict';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { expandHeaders, MissingSecretError, rulesForHost } from '../../src/network/header-rules.js';
import { SecretSealer } from '../../src/secrets/secret-sealer.js';
import { testTempDir } from '../helpers/test-run.js';

test('sealed secrets open only with the same key and name; the key file is created 0600', async () => {
  const dir = testTempDir('sealer-');
  try {
    const keyFile = path.join(dir, 'keys', 'secrets.key');
    const sealer = await SecretSealer.open(keyFile);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const sealed = sealer.seal('API_KEY', 'sk-123');
    assert.doesNotMatch(sealed, /sk-123/);
    assert.notEqual(sealer.seal('API_KEY', 'sk-123'), sealed, 'a fresh nonce every time');
    assert.equal((await SecretSealer.open(keyFile)).unseal('API_KEY', sealed), 'sk-123');
    assert.throws(() => sealer.unseal('OTHER', sealed), /cannot be opened/, 'bound to the name');
    const [format, nonce, tag, body] = sealed.split('.');
    const tampered = [format, nonce, tag, Buffer.from('x' + Buffer.from(body ?? '', 'base64').toString('latin1'), 'latin1').toString('base64')].join('.');
    assert.throws(() => sealer.unseal('API_KEY', tampered), /cannot be opened/);
    const otherKeyFile = path.join(dir, 'other.key');
    writeFileSync(otherKeyFile, Buffer.alloc(32, 7).toString('base64'));
    const otherSealer = await SecretSealer.open(otherKeyFile);
    assert.throws(() => otherSealer.unseal('API_KEY', sealed), /cannot be opened/, 'another key cannot open it');
    writeFileSync(otherKeyFile, 'short');
    await assert.rejects(SecretSealer.open(otherKeyFile), /32-byte/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('header rules: exact host first, then the longest wildcard; placeholders expand to granted secrets only', async () => {
  const rules = {
    'api.example.com': [{ headers: { Authorization: 'Bearer {{ secrets.A }}' } }],
    '*.example.com': [{ headers: { 'X-Wide': '1' } }],
    '*.eu.example.com': [{ headers: { 'X-Eu': '1' } }],
  };
  assert.equal(rulesForHost(rules, 'API.example.com'), rules['api.example.com']);
  assert.equal(rulesForHost(rules, 'x.eu.example.com'), rules['*.eu.example.com']);
  assert.equal(rulesForHost(rules, 'www.example.com'), rules['*.example.com']);
  assert.equal(rulesForHost(rules, 'example.com'), undefined);
  const granted = async (name: string): Promise<string | undefined> => (name === 'A' ? 'value-a' : undefined);
  assert.deepEqual([...(await expandHeaders(rules['api.example.com'], granted))], [['authorization', 'Bearer value-a']]);
  await assert.rejects(expandHeaders([{ headers: { X: '{{secrets.B}}' } }], granted), MissingSecretError);
});
