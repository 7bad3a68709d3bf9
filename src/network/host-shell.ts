// A long-lived shell that runs host commands (ip) for the network code. Forking the large Node.js process
// stalls its event loop for milliseconds per child; the shell forks instead, so preparing network namespaces
// in the background costs requests nothing.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { InternalError } from '../errors/hearth-error.js';

const DONE_MARKER = '__hearth_shell_done__';

interface Job {
  script: string;
  resolve: (output: string) => void;
  reject: (error: Error) => void;
}

export class HostShell {
  private shell: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private output = '';

  /** Runs `script` (bash) with stderr folded into stdout; rejects with that output when it exits non-zero. */
  run(script: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ script, resolve, reject });
      this.next();
    });
  }

  private ensureShell(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.shell && this.shell.exitCode === null) return this.shell;
    const shell = spawn('bash', ['--noprofile', '--norc'], { stdio: ['pipe', 'pipe', 'inherit'] });
    shell.stdout.on('data', (chunk: Buffer) => this.onOutput(chunk.toString('utf8')));
    shell.on('exit', () => {
      if (this.shell === shell) this.shell = undefined;
      const job = this.current;
      this.current = undefined;
      this.output = '';
      job?.reject(new InternalError('the host shell exited while running a command'));
      this.next();
    });
    shell.stdin.on('error', () => undefined);
    this.shell = shell;
    return shell;
  }

  private next(): void {
    if (this.current) return;
    const job = this.queue.shift();
    if (!job) return;
    this.current = job;
    this.output = '';
    this.ensureShell().stdin.write(`{ ${job.script}\n} 2>&1 </dev/null; echo "${DONE_MARKER} $?"\n`);
  }

  private onOutput(text: string): void {
    this.output += text;
    const match = new RegExp(`${DONE_MARKER} (\\d+)\\n`).exec(this.output);
    if (!match || !this.current) return;
    const job = this.current;
    const output = this.output.slice(0, match.index);
    this.current = undefined;
    this.output = '';
    if (match[1] === '0') job.resolve(output);
    else job.reject(new InternalError(`host command failed (exit ${match[1]}): ${output.trim()}`));
    this.next();
  }

  close(): void {
    this.shell?.stdin.end();
    this.shell = undefined;
  }
}
