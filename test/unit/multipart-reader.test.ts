// The streaming multipart reader against bodies built by the platform's own FormData encoder.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors/hearth-error.js';
import { multipartBoundary, readMultipart } from '../../src/server/data-plane/multipart-reader.js';

async function encode(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const request = new Request('http://x/', { method: 'POST', body: form });
  return { body: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type') ?? '' };
}

function chunked(body: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += size) parts.push(body.subarray(offset, offset + size));
  return Readable.from(parts);
}

test('reads several binary parts with filenames, whatever the chunk size', async () => {
  const first = randomBytes(200_000);
  const second = Buffer.from('second file\r\n--not-a-boundary\r\n');
  const form = new FormData();
  form.append('file', new Blob([first]), '/home/user/a.bin');
  form.append('file', new Blob([second]), 'b.txt');
  const { body, contentType } = await encode(form);
  for (const size of [1, 7, 4096, body.length]) {
    const parts: Array<{ filename: string | undefined; data: Buffer }> = [];
    for await (const part of readMultipart(chunked(body, size), multipartBoundary(contentType))) {
      const chunks: Buffer[] = [];
      for await (const chunk of part.body) chunks.push(chunk);
      parts.push({ filename: part.filename, data: Buffer.concat(chunks) });
    }
    assert.equal(parts.length, 2);
    assert.equal(parts[0]?.filename, '/home/user/a.bin');
    assert.ok(parts[0]?.data.equals(first));
    assert.equal(parts[1]?.filename, 'b.txt');
    assert.ok(parts[1]?.data.equals(second));
  }
});

test('parts skipped by the consumer do not break the next part', async () => {
  const form = new FormData();
  form.append('file', new Blob(['skip me']), 'one');
  form.append('file', new Blob(['keep me']), 'two');
  const { body, contentType } = await encode(form);
  const seen: string[] = [];
  for await (const part of readMultipart(chunked(body, 3), multipartBoundary(contentType))) {
    if (part.filename === 'one') continue;
    const chunks: Buffer[] = [];
    for await (const chunk of part.body) chunks.push(chunk);
    seen.push(Buffer.concat(chunks).toString());
  }
  assert.deepEqual(seen, ['keep me']);
});

test('a truncated body or a missing boundary is an invalid argument', async () => {
  assert.throws(() => multipartBoundary('multipart/form-data'), InvalidArgumentError);
  const form = new FormData();
  form.append('file', new Blob(['data']), 'f');
  const { body, contentType } = await encode(form);
  const consume = async (): Promise<void> => {
    for await (const part of readMultipart(chunked(body.subarray(0, body.length - 20), 5), multipartBoundary(contentType))) {
      for await (const chunk of part.body) void chunk;
    }
  };
  await assert.rejects(consume(), InvalidArgumentError);
});
