// A minimal QMP (QEMU Machine Protocol) client: one Unix-socket connection, the capabilities handshake, and
// commands answered in order (asynchronous events are skipped).
import net from 'node:net';
import { InternalError } from '../../errors/hearth-error.js';

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class QmpClient {
  private buffered = '';
  private readonly waiters: Waiter[] = [];
  private greeted: Waiter | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.failAll(new InternalError('the QMP connection closed')));
  }

  static async connect(socketPath: string, timeoutMs: number): Promise<QmpClient> {
    const socket = net.connect(socketPath);
    const client = new QmpClient(socket);
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', (error) => reject(new InternalError(`cannot reach QMP at ${socketPath}: ${error.message}`, { cause: error })));
        client.greeted = { resolve: () => resolve(), reject };
      });
      await client.execute('qmp_capabilities');
      return client;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs one command; resolves with its `return` value, rejects with QEMU's error description. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (let newline = this.buffered.indexOf('\n'); newline >= 0; newline = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, newline).trim();
      this.buffered = this.buffered.slice(newline + 1);
      if (!line) continue;
      const message = JSON.parse(line) as { QMP?: unknown; event?: string; return?: unknown; error?: { desc?: string } };
      if (message.QMP !== undefined) {
        this.greeted?.resolve(undefined);
        this.greeted = undefined;
      } else if (message.event === undefined) {
        const waiter = this.waiters.shift();
        if (message.error) waiter?.reject(new InternalError(`QMP: ${message.error.desc ?? 'error'}`));
        else waiter?.resolve(message.return);
      }
    }
  }

  private failAll(error: Error): void {
    this.greeted?.reject(error);
    this.greeted = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

/** Connects, runs `body`, closes. */
export async function withQmp<T>(socketPath: string, body: (qmp: QmpClient) => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const qmp = await QmpClient.connect(socketPath, timeoutMs);
  try {
    return await body(qmp);
  } finally {
    qmp.close();
  }
}
