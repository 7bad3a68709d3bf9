import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideConnection, decideLookup, domainMatches, parseEgressPolicy } from '../../src/network/egress-policy.js';
import { parseCidr } from '../../src/network/ipv4.js';
import { InvalidArgumentError } from '../../src/errors/hearth-error.js';

const subnet = parseCidr('10.77.0.0/16')!;

test('wildcards match subdomains at any depth but never the apex', () => {
  assert.equal(domainMatches('*.example.com', 'api.example.com'), true);
  assert.equal(domainMatches('*.example.com', 'a.b.example.com'), true);
  assert.equal(domainMatches('*.example.com', 'example.com'), false);
  assert.equal(domainMatches('*.example.com', 'badexample.com'), false);
  assert.equal(domainMatches('example.com', 'EXAMPLE.com.'), true);
});

test('allowOut wins over denyOut; denyOut 0.0.0.0/0 denies the rest; private ranges need an explicit allow', () => {
  const policy = parseEgressPolicy(['api.example.com', '8.8.8.0/24'], ['0.0.0.0/0'], undefined);
  assert.equal(decideConnection(policy, '93.184.216.34', ['api.example.com'], subnet).allowed, true);
  assert.equal(decideConnection(policy, '8.8.8.8', [], subnet).allowed, true);
  assert.equal(decideConnection(policy, '93.184.216.34', [], subnet).allowed, false);
  assert.equal(decideConnection(policy, '93.184.216.34', ['other.com'], subnet).allowed, false);
  const open = parseEgressPolicy(undefined, undefined, undefined);
  assert.equal(decideConnection(open, '93.184.216.34', [], subnet).allowed, true);
  assert.equal(decideConnection(open, '192.168.1.10', [], subnet).allowed, false);
  assert.equal(decideConnection(parseEgressPolicy(['192.168.1.0/24'], [], undefined), '192.168.1.10', [], subnet).allowed, true);
});

test('the host, loopback, link-local and the sandbox subnet are never reachable, whatever the policy', () => {
  const everything = parseEgressPolicy(['0.0.0.0/0'], [], undefined);
  for (const address of ['127.0.0.1', '169.254.169.254', '10.77.0.9', '0.0.0.0', '224.0.0.1']) {
    assert.equal(decideConnection(everything, address, [], subnet).allowed, false, address);
  }
});

test('allowInternetAccess: false is denyOut 0.0.0.0/0; lookups are refused only where nothing could be reached', () => {
  const offline = parseEgressPolicy(undefined, undefined, false);
  assert.deepEqual(offline.deny.map((rule) => rule.text), ['0.0.0.0/0']);
  assert.equal(decideLookup(offline, 'example.com').allowed, false);
  assert.equal(decideLookup(parseEgressPolicy(['example.com'], ['0.0.0.0/0'], undefined), 'example.com').allowed, true);
  assert.equal(decideLookup(parseEgressPolicy(['1.1.1.1'], ['0.0.0.0/0'], undefined), 'example.com').allowed, true, 'a CIDR allow may need any name resolved');
  assert.equal(decideLookup(parseEgressPolicy([], ['*.ads.test'], undefined), 'x.ads.test').allowed, false);
});

test('bad rules are typed errors', () => {
  for (const bad of [['*'], ['not a domain'], ['10.0.0.0/40'], ['::1'], [42], 'example.com']) {
    assert.throws(() => parseEgressPolicy(bad, undefined, undefined), InvalidArgumentError, JSON.stringify(bad));
  }
  assert.throws(() => parseEgressPolicy(Array.from({ length: 300 }, (_v, i) => `h${i}.test`), undefined, undefined), InvalidArgumentError);
});
