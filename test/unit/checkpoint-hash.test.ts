// The chunked SHA-256 of checkpoint images: the digest is defined by the chunks alone (not by which long-lived
// worker hashed them), concurrent hashes share the workers, and a file shorter than its manifest says is refused.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { CHUNK_BYTES, chunkedSha256 } from '../../src/backends/gvisor/checkpoint-hash.js';
import { testTempDir } from '../helpers/test-run.js';

const dir = testTempDir('hash-');
after(() => rmSync(dir, { recursive: true, force: true }));

function reference(data: Buffer): string {
  const combined = createHash('sha256').update(`hearth-chunked-sha256 ${CHUNK_BYTES}\n`);
  for (let start = 0; start < data.length; start += CHUNK_BYTES) combined.update(createHash('sha256').update(data.subarray(start, start + CHUNK_BYTES)).digest('hex'));
  return combined.digest('hex');
}

const data = randomBytes(2 * CHUNK_BYTES + 12345);
const file = path.join(dir, 'pages.img');
writeFileSync(file, data);

test('a multi-chunk file hashes to the SHA-256 of its chunk digests, the same on every call', async () => {
  const expected = reference(data);
  assert.equal(await chunkedSha256(file, data.length), expected);
  // the second call runs on the workers the first one started
  assert.equal(await chunkedSha256(file, data.length), expected);
});

test('a single-chunk and an empty prefix hash the same way without workers', async () => {
  assert.equal(await chunkedSha256(file, 1000), reference(data.subarray(0, 1000)));
  assert.equal(await chunkedSha256(file, 0), createHash('sha256').update(`hearth-chunked-sha256 ${CHUNK_BYTES}\n`).digest('hex'));
});

test('concurrent hashes of different lengths share the workers and each gets its own digest', async () => {
  const lengths = [data.length, CHUNK_BYTES + 1, data.length - 7, 2 * CHUNK_BYTES];
  const digests = await Promise.all(lengths.map((length) => chunkedSha256(file, length)));
  assert.deepEqual(digests, lengths.map((length) => reference(data.subarray(0, length))));
});

test('a file shorter than the bytes asked for is refused, and the workers keep serving', async () => {
  await assert.rejects(chunkedSha256(file, data.length + CHUNK_BYTES), /shrank/);
  assert.equal(await chunkedSha256(file, data.length), reference(data));
});
