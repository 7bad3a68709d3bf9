// The SQLite store passes the Store contract, and its file survives reopening.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { runStoreContract } from '../contract/store-contract.js';
import { testTempDir } from '../helpers/test-run.js';

const dir = testTempDir('store-');
let counter = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

runStoreContract('sqlite', async () => new SqliteStore(path.join(dir, `store-${counter++}.db`)));

test('sqlite: data persists across reopen and migrations run once', async () => {
  const file = path.join(dir, 'reopen.db');
  const first = new SqliteStore(file);
  await first.insertApiKey({ id: 'k', keyHash: 'h', prefix: 'p', createdAtMs: 1 });
  await first.close();
  const second = new SqliteStore(file);
  assert.equal(await second.countApiKeys(), 1);
  await second.close();
});
