// One connection to a sandbox's supervisor: handshake, request/reply, and event fan-out.
import net from 'node:net';
import { ProtocolError, SandboxUnavailableError, type HearthError } from '../errors/hearth-error.js';
import { Fields, FrameDecoder, encodeFrame, type Frame } from './frame-codec.js';
import { FieldTag, FrameType, PROTOCOL_GENERATION, type FsEventKind, type OutputStream } from './protocol.js';
import { errorFromErrno } from './supervisor-errors.js';

export type ProcessEvent =
  | { kind: 'output'; stream: OutputStream; data: Buffer }
  | { kind: 'exit'; exitCode: number | undefined; signal: number | undefined };

export type WatchEvent = { kind: 'fs'; name: string; event: FsEventKind } | { kind: 'end'; errno: number };

export type ProcessListener = (event: ProcessEvent) => void;
export type WatchListener = (event: WatchEvent) => void;

interface Pending {
  resolve: (fields: Fields) => void;
  reject: (error: HearthError) => void;
  onData?: (data: Buffer) => void;
  onOkBeforeResolve?: (fields: Fields) => void;
}

export interface SupervisorClientOptions {
  socketPath: string;
  connectTimeoutMs: number;
}

/** How long one connection waits for its HELLO answer before a new connection tries again. */
const HELLO_ATTEMPT_MS = 1_000;

/** One connection's HELLO went unanswered (internal: connect retries, then reports SandboxUnavailableError). */
class HelloTimeoutError extends Error {}

export class SupervisorClient {
  private socket: net.Socket | undefined;
  private readonly decoder = new FrameDecoder();
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly processListeners = new Map<number, Set<ProcessListener>>();
  private readonly watchListeners = new Map<number, WatchListener>();
  private closedError: HearthError | undefined;
  private readonly closeHandlers = new Set<(error: HearthError) => void>();
  supervisorPid = 0;

  private constructor(private readonly options: SupervisorClientOptions) {}

  /**
   * Connects, performs the generation handshake and returns a ready client. An unanswered HELLO is sent again on
   * a new connection every HELLO_ATTEMPT_MS until connectTimeoutMs: a microVM guest hears of connects and closes
   * out of band (virtio-serial's control queue), and a close it learns of late can cost the next connection's
   * first answer; a fresh connection always gets one.
   */
  static async connect(options: SupervisorClientOptions): Promise<SupervisorClient> {
    const deadline = Date.now() + options.connectTimeoutMs;
    for (;;) {
      const client = new SupervisorClient(options);
      const attemptMs = Math.max(1, Math.min(HELLO_ATTEMPT_MS, deadline - Date.now()));
      try {
        await client.open(attemptMs);
        return client;
      } catch (error) {
        if (!(error instanceof HelloTimeoutError) || Date.now() >= deadline) {
          throw error instanceof HelloTimeoutError
            ? new SandboxUnavailableError(`supervisor at ${options.socketPath} did not answer within ${options.connectTimeoutMs} ms`)
            : error;
        }
      }
    }
  }

  private open(attemptMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.options.socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HelloTimeoutError());
      }, attemptMs);
      socket.setNoDelay(true);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new SandboxUnavailableError(`cannot reach the sandbox supervisor: ${error.message}`, { cause: error }));
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.once('connect', () => {
        this.socket = socket;
        socket.on('close', () => this.onClose());
        socket.on('error', () => undefined);
        this.request(FrameType.hello, new Fields().add(FieldTag.generation, PROTOCOL_GENERATION))
          .then((fields) => {
            clearTimeout(timer);
            const generation = fields.int(FieldTag.generation);
            if (generation !== PROTOCOL_GENERATION) {
              socket.destroy();
              reject(new ProtocolError(`supervisor speaks protocol generation ${generation}, host speaks ${PROTOCOL_GENERATION}: rebuild the supervisor (npm run build)`));
              return;
            }
            this.supervisorPid = fields.int(FieldTag.pid) ?? 0;
            resolve();
          })
          .catch((error: unknown) => {
            clearTimeout(timer);
            reject(error);
          });
      });
    });
  }

  get isOpen(): boolean {
    return this.closedError === undefined && this.socket !== undefined;
  }

  onClosed(handler: (error: HearthError) => void): void {
    this.closeHandlers.add(handler);
  }

  /** Sends one request and resolves with the OK frame's fields. */
  request(type: FrameType, fields: Fields = new Fields(), hooks: Omit<Pending, 'resolve' | 'reject'> = {}): Promise<Fields> {
    return this.send(type, fields, hooks).reply;
  }

  private send(type: FrameType, fields: Fields, hooks: Omit<Pending, 'resolve' | 'reject'>): { id: number; reply: Promise<Fields> } {
    const id = this.nextId++;
    if (this.nextId > 0xfffffff0) this.nextId = 1;
    if (this.closedError) return { id, reply: Promise.reject(this.closedError) };
    const socket = this.socket;
    if (!socket) return { id, reply: Promise.reject(new SandboxUnavailableError('supervisor connection is not open')) };
    const reply = new Promise<Fields>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...hooks });
      socket.write(encodeFrame(type, id, fields));
    });
    return { id, reply };
  }

  /** Sends a WATCH request; its id becomes the watch id and events go to listener until unwatch. */
  async watch(fields: Fields, listener: WatchListener): Promise<number> {
    const { id, reply } = this.send(FrameType.watch, fields, {});
    this.watchListeners.set(id, listener);
    try {
      await reply;
    } catch (error) {
      this.watchListeners.delete(id);
      throw error;
    }
    return id;
  }

  /** Spawns a process; the listener is attached before any of its output can arrive. */
  async spawn(fields: Fields, listener: ProcessListener): Promise<number> {
    const reply = await this.request(FrameType.spawn, fields, {
      onOkBeforeResolve: (ok) => {
        const pid = ok.int(FieldTag.pid);
        if (pid !== undefined) this.addProcessListener(pid, listener);
      },
    });
    const pid = reply.int(FieldTag.pid);
    if (pid === undefined) throw new ProtocolError('SPAWN reply carries no pid');
    return pid;
  }

  addProcessListener(pid: number, listener: ProcessListener): () => void {
    let listeners = this.processListeners.get(pid);
    if (!listeners) {
      listeners = new Set();
      this.processListeners.set(pid, listeners);
    }
    listeners.add(listener);
    return () => {
      const current = this.processListeners.get(pid);
      current?.delete(listener);
      if (current && current.size === 0) this.processListeners.delete(pid);
    };
  }

  hasProcessListeners(pid: number): boolean {
    return (this.processListeners.get(pid)?.size ?? 0) > 0;
  }

  removeWatchListener(watchId: number): void {
    this.watchListeners.delete(watchId);
  }

  close(): void {
    this.socket?.destroy();
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.socket?.destroy(error as Error);
      return;
    }
    for (const frame of frames) this.dispatch(frame);
  }

  private dispatch(frame: Frame): void {
    switch (frame.type) {
      case FrameType.ok: {
        const pending = this.pending.get(frame.id);
        if (!pending) return;
        this.pending.delete(frame.id);
        pending.onOkBeforeResolve?.(frame.fields);
        pending.resolve(frame.fields);
        return;
      }
      case FrameType.error: {
        const pending = this.pending.get(frame.id);
        if (!pending) return;
        this.pending.delete(frame.id);
        pending.reject(errorFromErrno(frame.fields.int(FieldTag.errno) ?? 0, frame.fields.string(FieldTag.message) ?? 'supervisor error'));
        return;
      }
      case FrameType.fileData: {
        const data = frame.fields.raw(FieldTag.data);
        if (data) this.pending.get(frame.id)?.onData?.(data);
        return;
      }
      case FrameType.output: {
        const data = frame.fields.raw(FieldTag.data) ?? Buffer.alloc(0);
        const stream = (frame.fields.int(FieldTag.stream) ?? 1) as OutputStream;
        this.emitProcess(frame.id, { kind: 'output', stream, data });
        return;
      }
      case FrameType.exit: {
        this.emitProcess(frame.id, {
          kind: 'exit',
          exitCode: frame.fields.int(FieldTag.exitCode),
          signal: frame.fields.int(FieldTag.signo),
        });
        this.processListeners.delete(frame.id);
        return;
      }
      case FrameType.fsEvent: {
        const name = frame.fields.string(FieldTag.name) ?? '';
        const event = (frame.fields.int(FieldTag.event) ?? 2) as FsEventKind;
        this.watchListeners.get(frame.id)?.({ kind: 'fs', name, event });
        return;
      }
      case FrameType.watchEnd: {
        const listener = this.watchListeners.get(frame.id);
        this.watchListeners.delete(frame.id);
        listener?.({ kind: 'end', errno: frame.fields.int(FieldTag.errno) ?? 0 });
        return;
      }
      default:
        return;
    }
  }

  private emitProcess(pid: number, event: ProcessEvent): void {
    const listeners = this.processListeners.get(pid);
    if (!listeners) return;
    for (const listener of [...listeners]) listener(event);
  }

  private onClose(): void {
    const error = new SandboxUnavailableError('the sandbox supervisor connection closed: the sandbox was killed or stopped');
    this.closedError = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    for (const [pid, listeners] of this.processListeners) {
      for (const listener of listeners) listener({ kind: 'exit', exitCode: undefined, signal: 9 });
      this.processListeners.delete(pid);
    }
    for (const listener of this.watchListeners.values()) listener({ kind: 'end', errno: 0 });
    this.watchListeners.clear();
    for (const handler of this.closeHandlers) handler(error);
  }
}
