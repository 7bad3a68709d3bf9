// Seals secret values with AES-256-GCM under a key kept in its own file (never in the database), bound to the
// secret's name so a sealed value cannot be moved to another name.
import crypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../errors/hearth-error.js';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const FORMAT = 'v1';

export class SecretSealer {
  private constructor(private readonly key: Buffer) {}

  /** Loads the key file, creating it (0600) with a fresh random key the first time. */
  static async open(keyFile: string): Promise<SecretSealer> {
    await fs.mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    let key: Buffer;
    try {
      key = Buffer.from((await fs.readFile(keyFile, 'utf8')).trim(), 'base64');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      key = crypto.randomBytes(KEY_BYTES);
      await fs.writeFile(keyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    }
    if (key.length !== KEY_BYTES) throw new InternalError(`secrets key file ${keyFile} does not hold a ${KEY_BYTES}-byte base64 key`);
    return new SecretSealer(key);
  }

  seal(name: string, value: string): string {
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return [FORMAT, nonce.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join('.');
  }

  unseal(name: string, sealed: string): string {
    const [format, nonce, tag, ciphertext] = sealed.split('.');
    if (format !== FORMAT || !nonce || !tag || ciphertext === undefined) throw new InternalError(`secret "${name}" is stored in an unknown format`);
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64'));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new InternalError(`secret "${name}" cannot be opened with this server's key (was the key file replaced?)`, { cause: error });
    }
  }
}
