// Bad input at every edge gets a typed error with the right status, and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AuthenticationError, Sandbox, SandboxError } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { withSandbox } from '../helpers/sandbox-fixture.js';

let server: ServerProcess;
before(async () => {
  server = await startServer({ env: { HEARTH_MAX_UPLOAD_BYTES: String(8 * 1024 * 1024) } });
  useServerEnv(server);
});
after(async () => server.destroy());

async function api(path: string, init: RequestInit & { key?: string | null } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== null) headers['x-api-key'] = init.key ?? server.apiKey;
  const response = await fetch(`${server.url}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

test('missing or wrong API key is 401 in E2B shape', async () => {
  const missing = await api('/sandboxes', { key: null });
  assert.equal(missing.status, 401);
  assert.equal(missing.body['code'], 401);
  assert.equal(missing.body['errorCode'], 'unauthenticated');
  assert.equal((await api('/sandboxes', { key: 'wrong' })).status, 401);
  await assert.rejects(Sandbox.create({ apiKey: 'not-a-key' }), AuthenticationError);
});

test('malformed JSON and wrong field types are 400', async () => {
  const malformed = await api('/sandboxes', { method: 'POST', body: '{"templateID": ' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body['errorCode'], 'invalid_argument');
  assert.equal((await api('/sandboxes', { method: 'POST', body: '[1,2]' })).status, 400);
  assert.equal((await api('/sandboxes', { method: 'POST', body: JSON.stringify({ templateID: 'base', metadata: { a: 1 } }) })).status, 400);
  assert.equal((await api('/sandboxes', { method: 'POST', body: JSON.stringify({ templateID: 'base', timeout: -3 }) })).status, 400);
  assert.equal((await api('/v2/sandboxes?limit=0')).status, 400);
  assert.equal((await api('/v2/sandboxes?nextToken=garbage')).status, 400);
});

test('unknown template is 404', async () => {
  const response = await api('/sandboxes', { method: 'POST', body: JSON.stringify({ templateID: 'no-such-template' }) });
  assert.equal(response.status, 404);
  assert.equal(response.body['errorCode'], 'template_not_found');
  await assert.rejects(Sandbox.create('no-such-template'), SandboxError);
});

test('unknown and killed sandbox ids are 404 on the control plane and 502 on the data plane', async () => {
  assert.equal((await api('/sandboxes/doesnotexist')).status, 404);
  assert.equal((await api('/sandboxes/doesnotexist', { method: 'DELETE' })).status, 404);
  assert.equal((await api('/sandboxes/doesnotexist/timeout', { method: 'POST', body: '{"timeout": 10}' })).status, 404);
  const sbx = await Sandbox.create();
  await sbx.kill();
  assert.equal((await api(`/sandboxes/${sbx.sandboxId}`)).status, 404);
  await assert.rejects(sbx.commands.run('true'));
  await assert.rejects(sbx.files.read('/etc/hostname'));
  const dataPlane = await fetch(`${server.url}/files?path=/etc/hostname`, { headers: { 'e2b-sandbox-id': sbx.sandboxId } });
  assert.equal(dataPlane.status, 502);
});

test('a wrong or missing access token is refused on every data-plane route', async () => {
  await withSandbox(async (sbx) => {
    const base = { 'e2b-sandbox-id': sbx.sandboxId, 'content-type': 'application/json' };
    const noToken = await fetch(`${server.url}/filesystem.Filesystem/Stat`, { method: 'POST', headers: base, body: '{"path":"/"}' });
    assert.equal(noToken.status, 401);
    assert.equal(((await noToken.json()) as { code: string }).code, 'unauthenticated');
    const wrong = await fetch(`${server.url}/files?path=/etc/hostname`, { headers: { ...base, 'x-access-token': 'nope' } });
    assert.equal(wrong.status, 401);
    const other = await Sandbox.create();
    try {
      const crossed = await fetch(`${server.url}/files?path=/etc/hostname`, {
        headers: { 'e2b-sandbox-id': other.sandboxId, 'x-access-token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken },
      });
      assert.equal(crossed.status, 401, "one sandbox's token does not open another");
    } finally {
      await other.kill();
    }
  });
});

test('signed download URLs work until they expire and only for their path', async () => {
  await withSandbox(async (sbx) => {
    await sbx.files.write('/home/user/signed.txt', 'signed content');
    const good = await sbx.downloadUrl('/home/user/signed.txt', { useSignatureExpiration: 60 });
    const viaSignature = await fetch(good, { headers: { 'e2b-sandbox-id': sbx.sandboxId } });
    assert.equal(viaSignature.status, 200);
    assert.equal(await viaSignature.text(), 'signed content');
    const tampered = good.replace('signed.txt', 'other.txt');
    assert.equal((await fetch(tampered, { headers: { 'e2b-sandbox-id': sbx.sandboxId } })).status, 403);
    const expired = await sbx.downloadUrl('/home/user/signed.txt', { useSignatureExpiration: -10 });
    assert.equal((await fetch(expired, { headers: { 'e2b-sandbox-id': sbx.sandboxId } })).status, 401);
    const plain = await fetch(await sbx.downloadUrl('/home/user/signed.txt'));
    assert.equal(await plain.text(), 'signed content', 'a signed URL works without the sandbox header, as a browser would open it');
    const upload = new FormData();
    upload.append('file', new Blob(['uploaded via URL']), 'ignored-name');
    const uploaded = await fetch(await sbx.uploadUrl('/home/user/via-url.txt', { useSignatureExpiration: 60 }), { method: 'POST', body: upload });
    assert.equal(uploaded.status, 200);
    assert.equal(await sbx.files.read('/home/user/via-url.txt'), 'uploaded via URL');
  });
});

test('oversized bodies are 413 and the server keeps serving', async () => {
  const huge = await api('/sandboxes', { method: 'POST', body: JSON.stringify({ templateID: 'base', metadata: { blob: 'x'.repeat(2 * 1024 * 1024) } }) });
  assert.equal(huge.status, 413);
  assert.equal(huge.body['errorCode'], 'payload_too_large');
  await withSandbox(async (sbx) => {
    await assert.rejects(sbx.files.write('/home/user/too-big.bin', new Uint8Array(9 * 1024 * 1024).buffer), /413|exceeds/);
    assert.equal(await sbx.files.exists('/home/user/too-big.bin'), false, 'a refused upload leaves nothing behind');
    await sbx.files.write('/home/user/fine.txt', 'still fine');
    assert.equal(await sbx.files.read('/home/user/fine.txt'), 'still fine');
  });
  assert.equal((await api('/v2/sandboxes')).status, 200);
});

test('malformed Connect requests are invalid_argument and unknown methods are 404', async () => {
  await withSandbox(async (sbx) => {
    const headers = { 'e2b-sandbox-id': sbx.sandboxId, 'x-access-token': (sbx as unknown as { envdAccessToken: string }).envdAccessToken, 'content-type': 'application/json' };
    const bad = await fetch(`${server.url}/filesystem.Filesystem/Stat`, { method: 'POST', headers, body: '{not json' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'invalid_argument');
    const missingPath = await fetch(`${server.url}/filesystem.Filesystem/Stat`, { method: 'POST', headers, body: '{}' });
    assert.equal(missingPath.status, 400);
    const unknown = await fetch(`${server.url}/filesystem.Filesystem/Explode`, { method: 'POST', headers, body: '{}' });
    assert.equal(unknown.status, 404);
    const badUser = await fetch(`${server.url}/filesystem.Filesystem/Stat`, { method: 'POST', headers: { ...headers, authorization: `Basic ${Buffer.from('../etc:').toString('base64')}` }, body: '{"path":"/"}' });
    assert.equal(badUser.status, 400);
    const noSuchUser = await fetch(`${server.url}/filesystem.Filesystem/Stat`, { method: 'POST', headers: { ...headers, authorization: `Basic ${Buffer.from('nobodyhere:').toString('base64')}` }, body: '{"path":"/"}' });
    assert.ok(noSuchUser.status >= 400 && noSuchUser.status < 500);
    assert.equal((await sbx.commands.run('echo ok')).stdout, 'ok\n');
  });
});
