// Identifiers and secrets: sandbox ids double as hostnames, so they are short lowercase alphanumerics.
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let index = 0; index < length; index += 1) out += alphabet[(bytes[index] ?? 0) % alphabet.length];
  return out;
}

/** 20 characters, starting with a letter: a valid hostname label. */
export function newSandboxId(): string {
  return randomString(1, ALPHABET.slice(0, 26)) + randomString(19, ALPHABET);
}

export function newAccessToken(): string {
  return `ea_${randomBytes(24).toString('base64url')}`;
}

export function newApiKey(): string {
  return `hearth_${randomBytes(24).toString('hex')}`;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
