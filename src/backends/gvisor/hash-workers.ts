// Long-lived worker threads that SHA-256 byte ranges of files. Starting a worker thread costs 15–40 ms on a
// loaded 2-core host, which every checkpoint and every resume paid (twice: one worker per core) before hashing a
// byte; these stay up between uses, end after ten minutes without work and never keep the process alive while idle.
import { Worker } from 'node:worker_threads';

const IDLE_EXIT_MS = 600_000;

/** Hashes the byte ranges of one file per message; runs as a worker (CommonJS, evaluated from this string). */
const WORKER_SOURCE = `
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');
const buffer = Buffer.allocUnsafe(4 << 20);
parentPort.on('message', ({ jobId, filePath, ranges }) => {
  let fd;
  try {
    fd = fs.openSync(filePath, 'r');
    const digests = [];
    for (const [start, end] of ranges) {
      const hash = createHash('sha256');
      for (let offset = start; offset < end; ) {
        const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, end - offset), offset);
        if (read === 0) throw new Error('file shrank while hashing');
        hash.update(buffer.subarray(0, read));
        offset += read;
      }
      digests.push(hash.digest('hex'));
    }
    parentPort.postMessage({ jobId, digests });
  } catch (error) {
    parentPort.postMessage({ jobId, error: String(error && error.message ? error.message : error) });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
});
`;

interface Job {
  resolve(digests: string[]): void;
  reject(error: Error): void;
}

interface Reply {
  jobId: number;
  digests?: string[];
  error?: string;
}

class HashWorker {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private readonly jobs = new Map<number, Job>();
  private nextJobId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly onGone: (worker: HashWorker) => void) {
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.once('error', (error) => this.fail(error));
    this.worker.once('exit', (code) => this.fail(new Error(`hash worker exited with ${code}`)));
  }

  get pending(): number {
    return this.jobs.size;
  }

  hash(filePath: string, ranges: Array<[number, number]>): Promise<string[]> {
    const jobId = this.nextJobId++;
    clearTimeout(this.idleTimer);
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.jobs.set(jobId, { resolve, reject });
      this.worker.postMessage({ jobId, filePath, ranges });
    });
  }

  private settle(reply: Reply): void {
    const job = this.jobs.get(reply.jobId);
    this.jobs.delete(reply.jobId);
    if (reply.error !== undefined || !reply.digests) job?.reject(new Error(reply.error ?? 'hash worker sent no digests'));
    else job?.resolve(reply.digests);
    if (this.jobs.size === 0) {
      this.worker.unref();
      this.idleTimer = setTimeout(() => this.retire(), IDLE_EXIT_MS).unref();
    }
  }

  /** Leaves the pool before terminating, so no job is handed to a worker that is going away. */
  private retire(): void {
    this.onGone(this);
    void this.worker.terminate();
  }

  private fail(error: Error): void {
    clearTimeout(this.idleTimer);
    this.onGone(this);
    for (const job of this.jobs.values()) job.reject(error);
    this.jobs.clear();
  }
}

const workers: HashWorker[] = [];

function removeWorker(worker: HashWorker): void {
  const index = workers.indexOf(worker);
  if (index >= 0) workers.splice(index, 1);
}

/**
 * The SHA-256 hex digests of `shares[i]`'s ranges of `filePath`, each share hashed on its own worker (the least
 * busy ones, started on first use), in the order given.
 */
export function hashRangesInWorkers(filePath: string, shares: Array<Array<[number, number]>>): Promise<string[][]> {
  while (workers.length < shares.length) workers.push(new HashWorker(removeWorker));
  const chosen = [...workers].sort((a, b) => a.pending - b.pending).slice(0, shares.length);
  return Promise.all(shares.map((ranges, index) => (ranges.length > 0 ? (chosen[index] as HashWorker).hash(filePath, ranges) : Promise.resolve([]))));
}
