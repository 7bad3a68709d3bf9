// envd's `/files` endpoint: download a file, upload one or more files (multipart or octet-stream).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveSandbox } from '../../core/sandbox-service.js';
import { InvalidArgumentError, PayloadTooLargeError, ProtocolError } from '../../errors/hearth-error.js';
import { Fields } from '../../supervisor/frame-codec.js';
import { EntryType, FieldTag, FrameType } from '../../supervisor/protocol.js';
import { sendJson } from '../http-io.js';
import { uploadedEntryJson } from './entry-info.js';
import { multipartBoundary, readMultipart } from './multipart-reader.js';

const WRITE_CHUNK_BYTES = 256 * 1024;

export async function downloadFile(live: LiveSandbox, user: string, path: string, response: ServerResponse): Promise<void> {
  const stat = await live.client.request(FrameType.stat, new Fields().add(FieldTag.path, path).add(FieldTag.user, user));
  const entry = stat.nested(FieldTag.entry);
  if (entry?.int(FieldTag.type) === EntryType.directory) throw new InvalidArgumentError(`path ${path} is a directory, not a file`);
  const name = entry?.string(FieldTag.name) ?? 'file';
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    });
  };
  const done = await live.client.request(FrameType.readFile, new Fields().add(FieldTag.path, path).add(FieldTag.user, user), {
    onData: (data) => {
      start();
      response.write(data);
    },
  });
  if (!started) {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '0' });
    response.end();
    return;
  }
  void done;
  response.end();
}

/**
 * Streams one upload into a temporary sibling of `path` and renames it into place, so a failed
 * or refused upload never leaves a truncated file or clobbers the previous content.
 */
async function writeStream(live: LiveSandbox, user: string, path: string, chunks: AsyncIterable<Buffer>, budget: { remainingBytes: number; limitBytes: number }): Promise<Fields> {
  const temporaryPath = `${path}.hearth-upload-${randomBytes(6).toString('hex')}`;
  const opened = await live.client.request(FrameType.writeOpen, new Fields().add(FieldTag.path, temporaryPath).add(FieldTag.user, user));
  const handle = opened.int(FieldTag.handle);
  if (handle === undefined) throw new ProtocolError('supervisor did not return a write handle');
  let failed: unknown;
  try {
    for await (const chunk of chunks) {
      budget.remainingBytes -= chunk.length;
      if (budget.remainingBytes < 0) throw new PayloadTooLargeError(budget.limitBytes);
      for (let offset = 0; offset < chunk.length; offset += WRITE_CHUNK_BYTES) {
        await live.client.request(FrameType.writeData, new Fields().add(FieldTag.handle, handle).add(FieldTag.data, chunk.subarray(offset, offset + WRITE_CHUNK_BYTES)));
      }
    }
  } catch (error) {
    failed = error;
  }
  await live.client.request(FrameType.writeClose, new Fields().add(FieldTag.handle, handle)).catch((error: unknown) => (failed ??= error));
  if (failed) {
    await live.client.request(FrameType.remove, new Fields().add(FieldTag.path, temporaryPath).add(FieldTag.user, user)).catch(() => undefined);
    throw failed;
  }
  const moved = await live.client.request(FrameType.move, new Fields().add(FieldTag.path, temporaryPath).add(FieldTag.target, path).add(FieldTag.user, user));
  const entry = moved.nested(FieldTag.entry);
  if (!entry) throw new ProtocolError('supervisor did not describe the written file');
  return entry;
}

export async function uploadFiles(live: LiveSandbox, user: string, queryPath: string | null, request: IncomingMessage, response: ServerResponse, limitBytes: number): Promise<void> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > limitBytes) throw new PayloadTooLargeError(limitBytes);
  const budget = { remainingBytes: limitBytes, limitBytes };
  const contentType = request.headers['content-type'] ?? '';
  const written: Array<Record<string, unknown>> = [];
  if (contentType.toLowerCase().startsWith('multipart/form-data')) {
    for await (const part of readMultipart(request, multipartBoundary(contentType))) {
      const path = queryPath || part.filename;
      if (!path) throw new InvalidArgumentError('each uploaded file needs a path: a `path` query parameter or the part filename');
      written.push(uploadedEntryJson(await writeStream(live, user, path, part.body, budget)));
    }
    if (written.length === 0) throw new InvalidArgumentError('multipart upload carried no file');
  } else {
    if (!queryPath) throw new InvalidArgumentError('an octet-stream upload needs the `path` query parameter');
    if (request.headers['content-encoding'] && request.headers['content-encoding'] !== 'identity') {
      throw new InvalidArgumentError(`content encoding "${request.headers['content-encoding']}" is not supported`);
    }
    written.push(uploadedEntryJson(await writeStream(live, user, queryPath, request as AsyncIterable<Buffer>, budget)));
  }
  sendJson(response, 200, written);
}
