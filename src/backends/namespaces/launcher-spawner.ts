// Client of `hearth-supervisor spawner`: a small long-lived helper that forks sandbox launchers for us,
// because forking this large Node.js process blocks the event loop for milliseconds per sandbox.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { BackendMisconfiguredError, InternalError } from '../../errors/hearth-error.js';

export interface LaunchOutcome {
  exitStatus: number;
  output: string;
}

interface Pending {
  resolve: (outcome: LaunchOutcome) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class LauncherSpawner {
  private child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly supervisorBinary: string,
    private readonly timeoutMs: number,
  ) {}

  private ensureChild(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.child && this.child.exitCode === null && !this.child.killed) return this.child;
    const child = spawn(this.supervisorBinary, ['spawner'], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    child.on('error', (error) => this.failAll(new BackendMisconfiguredError(`cannot run ${this.supervisorBinary} spawner: ${error.message}`, { cause: error })));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.failAll(new InternalError(`the launcher spawner exited (${signal ?? code}); it restarts on the next launch`));
    });
    child.stdin.on('error', () => undefined);
    this.child = child;
    return child;
  }

  /** Runs `hearth-supervisor ARGS` (ARGS[0] is `launch`) through the spawner and returns its exit status and output. */
  launch(args: readonly string[]): Promise<LaunchOutcome> {
    const child = this.ensureChild();
    const id = this.nextId++;
    const parts: Buffer[] = [];
    const head = Buffer.alloc(8);
    head.writeUInt32LE(id, 0);
    head.writeUInt32LE(args.length, 4);
    parts.push(head);
    for (const arg of args) {
      const bytes = Buffer.from(arg, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length, 0);
      parts.push(length, bytes);
    }
    return new Promise<LaunchOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new InternalError(`sandbox launch did not finish within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.stdin.write(Buffer.concat(parts));
    });
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.buffered.length >= 12) {
      const length = this.buffered.readUInt32LE(8);
      if (this.buffered.length < 12 + length) return;
      const id = this.buffered.readUInt32LE(0);
      const exitStatus = this.buffered.readInt32LE(4);
      const output = this.buffered.subarray(12, 12 + length).toString('utf8');
      this.buffered = this.buffered.subarray(12 + length);
      const pending = this.pending.get(id);
      if (pending) {
        this.pending.delete(id);
        clearTimeout(pending.timer);
        pending.resolve({ exitStatus, output });
      }
    }
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
    this.buffered = Buffer.alloc(0);
  }

  /** Closes the spawner's stdin; it exits, sandboxes keep running. */
  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }
}
