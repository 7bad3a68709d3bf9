// Connect-RPC over HTTP/1.1 with the JSON codec: unary calls and server-streaming calls with enveloped messages.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONNECT_CODE_BY_CODE, HTTP_STATUS_BY_CONNECT_CODE } from '../../errors/error-codes.js';
import { DeadlineExceededError, HearthError, InvalidArgumentError, toHearthError } from '../../errors/hearth-error.js';
import { readBody } from '../http-io.js';

export const CONNECT_STREAM_JSON = 'application/connect+json';
const END_STREAM_FLAG = 0x02;
const COMPRESSED_FLAG = 0x01;

export interface RpcCall {
  /** Aborted when the client goes away or the call's deadline passes. */
  signal: AbortSignal;
  /** Why the signal fired: a DeadlineExceededError when the Connect-Timeout-Ms deadline passed. */
  abortReason(): HearthError | undefined;
  /** Keepalive interval the client asked for (Keepalive-Ping-Interval, seconds), if any. */
  keepaliveMs: number | undefined;
  /** When the Connect-Timeout-Ms deadline passes (epoch ms), if the client set one. */
  deadlineAtMs: number | undefined;
}

export interface ServerStream {
  send(message: unknown): void;
}

export type UnaryMethod<C> = (call: RpcCall, context: C, message: Record<string, unknown>) => Promise<unknown>;
export type StreamMethod<C> = (call: RpcCall, context: C, message: Record<string, unknown>, stream: ServerStream) => Promise<void>;

export type RpcMethod<C> = { kind: 'unary'; handler: UnaryMethod<C> } | { kind: 'server-stream'; handler: StreamMethod<C> };

function envelope(flags: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

function parseJsonMessage(bytes: Buffer): Record<string, unknown> {
  if (bytes.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`request message is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError('request message must be a JSON object');
  return value as Record<string, unknown>;
}

function firstEnvelope(body: Buffer): Buffer {
  if (body.length < 5) throw new InvalidArgumentError('streaming request carries no enveloped message');
  const flags = body.readUInt8(0);
  if (flags & COMPRESSED_FLAG) throw new InvalidArgumentError('compressed Connect messages are not supported');
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) throw new InvalidArgumentError('streaming request message is truncated');
  return body.subarray(5, 5 + length);
}

function connectErrorBody(error: HearthError): { code: string; message: string } {
  return { code: CONNECT_CODE_BY_CODE[error.code], message: error.message };
}

function createCall(request: IncomingMessage, response: ServerResponse): { call: RpcCall; dispose: () => void } {
  const controller = new AbortController();
  let reason: HearthError | undefined;
  let timer: NodeJS.Timeout | undefined;
  let deadlineAtMs: number | undefined;
  const timeoutHeader = request.headers['connect-timeout-ms'];
  if (typeof timeoutHeader === 'string' && timeoutHeader.length > 0) {
    const timeoutMs = Number(timeoutHeader);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new InvalidArgumentError('Connect-Timeout-Ms must be a non-negative integer');
    deadlineAtMs = Date.now() + timeoutMs;
    timer = setTimeout(() => {
      reason = new DeadlineExceededError(`the call exceeded its deadline of ${timeoutMs} ms`);
      controller.abort(reason);
    }, timeoutMs);
  }
  const onClose = (): void => {
    if (!response.writableFinished) controller.abort(new Error('client disconnected'));
  };
  response.on('close', onClose);
  const keepaliveHeader = request.headers['keepalive-ping-interval'];
  const keepaliveSeconds = typeof keepaliveHeader === 'string' ? Number(keepaliveHeader) : NaN;
  return {
    call: {
      signal: controller.signal,
      abortReason: () => reason,
      keepaliveMs: Number.isFinite(keepaliveSeconds) && keepaliveSeconds > 0 ? keepaliveSeconds * 1000 : undefined,
      deadlineAtMs,
    },
    dispose: () => {
      if (timer) clearTimeout(timer);
      response.off('close', onClose);
    },
  };
}

export function sendUnaryError(response: ServerResponse, error: unknown): void {
  const failure = toHearthError(error);
  const body = connectErrorBody(failure);
  const payload = Buffer.from(JSON.stringify(body));
  response.writeHead(HTTP_STATUS_BY_CONNECT_CODE[body.code as keyof typeof HTTP_STATUS_BY_CONNECT_CODE], {
    'content-type': 'application/json',
    'content-length': String(payload.length),
  });
  response.end(payload);
}

/** Serves one Connect call with the JSON codec. */
export async function serveRpc<C>(request: IncomingMessage, response: ServerResponse, method: RpcMethod<C>, context: C, maxMessageBytes: number): Promise<void> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (method.kind === 'unary') {
    try {
      if (contentType !== 'application/json') {
        throw new InvalidArgumentError(`content type "${contentType}" is not supported: Hearth speaks Connect with the JSON codec (application/json)`);
      }
      const message = parseJsonMessage(await readBody(request, maxMessageBytes));
      const { call, dispose } = createCall(request, response);
      try {
        const reply = await method.handler(call, context, message);
        const payload = Buffer.from(JSON.stringify(reply ?? {}));
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(payload.length) });
        response.end(payload);
      } finally {
        dispose();
      }
    } catch (error) {
      sendUnaryError(response, error);
    }
    return;
  }

  if (contentType !== CONNECT_STREAM_JSON) {
    sendUnaryError(response, new InvalidArgumentError(`content type "${contentType}" is not supported for streaming: use ${CONNECT_STREAM_JSON}`));
    return;
  }
  let message: Record<string, unknown>;
  let created: ReturnType<typeof createCall>;
  try {
    message = parseJsonMessage(firstEnvelope(await readBody(request, maxMessageBytes)));
    created = createCall(request, response);
  } catch (error) {
    sendUnaryError(response, error);
    return;
  }
  const { call, dispose } = created;
  response.writeHead(200, { 'content-type': CONNECT_STREAM_JSON });
  response.flushHeaders();
  const stream: ServerStream = {
    send: (reply) => {
      if (!response.writableEnded && !response.destroyed) response.write(envelope(0, Buffer.from(JSON.stringify(reply))));
    },
  };
  let endMessage: Record<string, unknown> = {};
  try {
    await method.handler(call, context, message, stream);
    const reason = call.abortReason();
    if (reason) endMessage = { error: connectErrorBody(reason) };
  } catch (error) {
    endMessage = { error: connectErrorBody(toHearthError(error)) };
  } finally {
    dispose();
  }
  if (!response.writableEnded && !response.destroyed) response.end(envelope(END_STREAM_FLAG, Buffer.from(JSON.stringify(endMessage))));
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Calls send every intervalMs until the returned function is called. */
export function startKeepalive(call: RpcCall, send: () => void): () => void {
  if (!call.keepaliveMs) return () => undefined;
  const timer = setInterval(send, call.keepaliveMs);
  return () => clearInterval(timer);
}
