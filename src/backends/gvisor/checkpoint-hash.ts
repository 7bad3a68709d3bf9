// SHA-256 of large checkpoint files, in fixed-size chunks hashed on every core at once (a 256 MiB sandbox's
// image is about 200 MiB; one thread hashes it in about 300 ms, which a resume would wait for). A file's digest
// is the SHA-256 of its chunks' digests in order, so it does not depend on how many threads computed them.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { hashRangesInWorkers } from './hash-workers.js';

export const CHUNK_BYTES = 16 << 20;

/** The chunked SHA-256 of the first `bytes` bytes of a file. */
export async function chunkedSha256(filePath: string, bytes: number): Promise<string> {
  const chunks: Array<[number, number]> = [];
  for (let start = 0; start < bytes; start += CHUNK_BYTES) chunks.push([start, Math.min(bytes, start + CHUNK_BYTES)]);
  if (chunks.length <= 1) {
    // one chunk: starting a worker costs more than hashing it here
    const data = bytes === 0 ? Buffer.alloc(0) : (await fs.readFile(filePath)).subarray(0, bytes);
    return createHash('sha256').update(`hearth-chunked-sha256 ${CHUNK_BYTES}\n`).update(bytes === 0 ? '' : createHash('sha256').update(data).digest('hex')).digest('hex');
  }
  const workers = Math.max(1, Math.min(os.availableParallelism(), chunks.length));
  // chunk i goes to worker i mod n; the digests are put back in file order
  const shares = Array.from({ length: workers }, (_unused, worker) => chunks.filter((_chunk, index) => index % workers === worker));
  const results = await hashRangesInWorkers(filePath, shares);
  const combined = createHash('sha256').update(`hearth-chunked-sha256 ${CHUNK_BYTES}\n`);
  for (let index = 0; index < chunks.length; index++) combined.update(results[index % workers]?.[Math.floor(index / workers)] ?? '');
  return combined.digest('hex');
}
