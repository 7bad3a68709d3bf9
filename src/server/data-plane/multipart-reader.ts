// Streaming multipart/form-data reader: yields each part's headers and body chunks without buffering whole files.
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../../errors/hearth-error.js';

export interface MultipartPart {
  name: string | undefined;
  filename: string | undefined;
  /** Body chunks of this part; must be fully consumed before the next part is read. */
  body: AsyncGenerator<Buffer>;
}

export function multipartBoundary(contentType: string): string {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new InvalidArgumentError('multipart/form-data request has no boundary');
  return boundary.trim();
}

function parseDisposition(headers: string): { name: string | undefined; filename: string | undefined } {
  const line = headers.split('\r\n').find((header) => header.toLowerCase().startsWith('content-disposition:')) ?? '';
  const name = /\bname="([^"]*)"/i.exec(line)?.[1];
  const filenameStar = /\bfilename\*=UTF-8''([^;]+)/i.exec(line)?.[1];
  const filename = filenameStar ? decodeURIComponent(filenameStar) : /\bfilename="([^"]*)"/i.exec(line)?.[1];
  return { name, filename };
}

/** Reads parts from a multipart body; bytes beyond limitBytes abort with the given error. */
export async function* readMultipart(source: Readable, boundary: string): AsyncGenerator<MultipartPart> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let buffer: Buffer = Buffer.alloc(0);
  let sourceDone = false;
  const pull = async (): Promise<boolean> => {
    if (sourceDone) return false;
    const next = await iterator.next();
    if (next.done) {
      sourceDone = true;
      return false;
    }
    buffer = buffer.length ? Buffer.concat([buffer, next.value]) : next.value;
    return true;
  };
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first boundary has no leading CRLF.
  buffer = Buffer.from('\r\n');
  for (;;) {
    let index = buffer.indexOf(delimiter);
    while (index < 0) {
      if (!(await pull())) throw new InvalidArgumentError('multipart body ended before its first boundary');
      index = buffer.indexOf(delimiter);
    }
    buffer = buffer.subarray(index + delimiter.length);
    while (buffer.length < 2) if (!(await pull())) throw new InvalidArgumentError('multipart body is truncated');
    if (buffer.subarray(0, 2).toString() === '--') return;
    let headerEnd = buffer.indexOf('\r\n\r\n');
    while (headerEnd < 0) {
      if (buffer.length > 16 * 1024) throw new InvalidArgumentError('multipart part headers are too large');
      if (!(await pull())) throw new InvalidArgumentError('multipart part headers are truncated');
      headerEnd = buffer.indexOf('\r\n\r\n');
    }
    const headers = buffer.subarray(2, headerEnd).toString('utf8');
    buffer = buffer.subarray(headerEnd + 4);
    const { name, filename } = parseDisposition(headers);
    let partDone = false;
    const body = async function* (): AsyncGenerator<Buffer> {
      for (;;) {
        const end = buffer.indexOf(delimiter);
        if (end >= 0) {
          if (end > 0) yield buffer.subarray(0, end);
          buffer = buffer.subarray(end);
          partDone = true;
          return;
        }
        const safe = buffer.length - delimiter.length;
        if (safe > 0) {
          const chunk = buffer.subarray(0, safe);
          buffer = buffer.subarray(safe);
          yield chunk;
        }
        if (!(await pull())) throw new InvalidArgumentError('multipart body ended inside a part');
      }
    };
    const generator = body();
    yield { name, filename, body: generator };
    if (!partDone) for await (const _chunk of generator) void _chunk;
  }
}
