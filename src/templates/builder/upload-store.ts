// Files the e2b SDK uploads for COPY steps: tar archives stored by content hash, unpacked once into a build context.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, PermissionDeniedError } from '../../errors/hearth-error.js';

const HASH_PATTERN = /^[a-f0-9]{16,128}$/;
const UPLOAD_URL_TTL_MS = 60 * 60 * 1000;

export class UploadStore {
  private secret: Buffer | undefined;

  constructor(private readonly root: string) {}

  private async key(): Promise<Buffer> {
    if (this.secret) return this.secret;
    const file = path.join(this.root, '.upload-secret');
    await fs.mkdir(this.root, { recursive: true });
    try {
      this.secret = await fs.readFile(file);
    } catch {
      this.secret = randomBytes(32);
      await fs.writeFile(file, this.secret, { mode: 0o600 });
    }
    return this.secret;
  }

  static checkHash(hash: string): string {
    if (!HASH_PATTERN.test(hash)) throw new InvalidArgumentError(`"${hash}" is not a files hash`);
    return hash;
  }

  private archive(hash: string): string {
    return path.join(this.root, `${UploadStore.checkHash(hash)}.tar`);
  }

  async has(hash: string): Promise<boolean> {
    return fs.access(this.archive(hash)).then(() => true, () => false);
  }

  /** A PUT URL the SDK can upload to without the API key: signed with the server's secret, valid for an hour. */
  async signedPath(hash: string): Promise<string> {
    const expires = Date.now() + UPLOAD_URL_TTL_MS;
    const signature = createHmac('sha256', await this.key()).update(`${UploadStore.checkHash(hash)}:${expires}`).digest('hex');
    return `/template-uploads/${hash}?expires=${expires}&signature=${signature}`;
  }

  async verify(hash: string, expires: string | null, signature: string | null): Promise<void> {
    const expiresMs = Number(expires);
    if (!signature || !Number.isFinite(expiresMs) || expiresMs < Date.now()) throw new PermissionDeniedError('the upload URL is missing its signature or has expired');
    const expected = Buffer.from(createHmac('sha256', await this.key()).update(`${UploadStore.checkHash(hash)}:${expiresMs}`).digest('hex'));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new PermissionDeniedError('the upload URL signature does not match');
  }

  async save(hash: string, body: Readable, limitBytes: number): Promise<void> {
    const target = this.archive(hash);
    const staging = `${target}.${randomBytes(4).toString('hex')}`;
    let received = 0;
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) body.destroy(new InvalidArgumentError(`upload exceeds ${limitBytes} bytes`));
    });
    try {
      await pipeline(body, createWriteStream(staging));
      await fs.rename(staging, target);
    } catch (error) {
      await fs.rm(staging, { force: true });
      throw error;
    }
  }

  /** Unpacks uploaded archives (gzip or plain tar) into one directory: the part of the client's context the build copies from. */
  async unpackAll(hashes: readonly string[], dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    for (const hash of new Set(hashes)) {
      if (!(await this.has(hash))) throw new InvalidArgumentError(`files ${hash} were never uploaded`);
      await new Promise<void>((resolve, reject) => {
        const child = spawn('tar', ['-xf', this.archive(hash), '-C', dir, '--no-same-owner'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('error', reject);
        child.once('close', (code) => (code === 0 ? resolve() : reject(new InvalidArgumentError(`cannot unpack uploaded files ${hash}: ${stderr.trim()}`))));
      });
    }
  }
}
