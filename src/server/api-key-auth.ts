// API keys: created on first start (printed once) or taken from HEARTH_API_KEY; only their hashes are stored.
import { UnauthenticatedError } from '../errors/hearth-error.js';
import { newApiKey, sha256Hex } from '../core/ids.js';
import type { Store } from '../store/store.js';

export class ApiKeyAuth {
  private readonly knownHashes = new Set<string>();

  constructor(private readonly store: Store) {}

  /** Makes sure a usable key exists; returns a key to print when one was created now. */
  async bootstrap(presetKey: string | undefined): Promise<{ createdKey: string | undefined }> {
    if (presetKey) {
      await this.register(presetKey);
      return { createdKey: undefined };
    }
    if ((await this.store.countApiKeys()) > 0) return { createdKey: undefined };
    const key = newApiKey();
    await this.register(key);
    return { createdKey: key };
  }

  async register(key: string): Promise<void> {
    const keyHash = sha256Hex(key);
    if (!(await this.store.findApiKeyByHash(keyHash))) {
      await this.store.insertApiKey({ id: keyHash.slice(0, 12), keyHash, prefix: key.slice(0, 10), createdAtMs: Date.now() });
    }
    this.knownHashes.add(keyHash);
  }

  async verify(key: string | undefined): Promise<void> {
    if (!key) throw new UnauthenticatedError('missing API key: send it in the X-API-Key header (E2B_API_KEY for the e2b SDK)');
    const keyHash = sha256Hex(key);
    if (this.knownHashes.has(keyHash)) return;
    if (await this.store.findApiKeyByHash(keyHash)) {
      this.knownHashes.add(keyHash);
      return;
    }
    throw new UnauthenticatedError('invalid API key');
  }
}
