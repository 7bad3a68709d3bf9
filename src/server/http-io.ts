// Request body reading with size limits, JSON parsing, and E2B-shaped JSON error responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_STATUS_BY_CODE } from '../errors/error-codes.js';
import { InvalidArgumentError, PayloadTooLargeError, toHearthError } from '../errors/hearth-error.js';

/** Reads the whole body, refusing more than limitBytes (checked against Content-Length first). */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > limitBytes) {
    request.resume();
    throw new PayloadTooLargeError(limitBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limitBytes) {
      request.resume();
      throw new PayloadTooLargeError(limitBytes);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const body = await readBody(request, limitBytes);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new InvalidArgumentError(`request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers });
  response.end(payload);
}

export function sendEmpty(response: ServerResponse, status: number): void {
  response.writeHead(status, { 'content-length': '0' });
  response.end();
}

/** The E2B error body: numeric `code` and `message`, plus Hearth's stable `errorCode`. */
export function sendError(response: ServerResponse, error: unknown): void {
  const failure = toHearthError(error);
  const status = HTTP_STATUS_BY_CODE[failure.code];
  if (response.headersSent) {
    response.destroy(failure);
    return;
  }
  sendJson(response, status, { code: status, message: failure.message, errorCode: failure.code });
}
