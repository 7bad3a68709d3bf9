// Tool definitions: given at create or replaced later, shown read-only under /run/hearth/tools, never writable from inside.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CommandExitError, Sandbox } from 'e2b';
import { startServer, useServerEnv, type ServerProcess } from '../helpers/server-process.js';
import { apiRequest, type ApiResponse } from '../helpers/api-request.js';

let server: ServerProcess;
before(async () => {
  server = await startServer();
  useServerEnv(server);
});
after(async () => server.destroy());

const search = { name: 'web_search', description: 'Search the web', inputSchema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] }, http: { url: 'https://tools.example/search', method: 'post' } };
const calc = { name: 'calculator', description: 'Evaluate arithmetic', inputSchema: { type: 'object', properties: { expression: { type: 'string' } } } };

const api = (method: string, route: string, body?: unknown): Promise<ApiResponse> => apiRequest(server, method, route, body);

test('tools given at create appear read-only, and can be replaced on a running sandbox', async () => {
  const created = await api('POST', '/sandboxes', { templateID: 'base', tools: [search, calc] });
  assert.equal(created.status, 201);
  const sbx = await Sandbox.connect(created.json['sandboxID'] as string);
  try {
    const index = JSON.parse(await sbx.files.read('/run/hearth/tools/index.json')) as { tools: Array<{ name: string; kind: string }> };
    assert.deepEqual(index.tools.map((tool) => [tool.name, tool.kind]), [['web_search', 'http'], ['calculator', 'local']]);
    const tool = JSON.parse(await sbx.files.read('/run/hearth/tools/web_search.json')) as typeof search;
    assert.deepEqual(tool.inputSchema, search.inputSchema);
    assert.equal(tool.http.method, 'POST');
    for (const attempt of ['echo x > /run/hearth/tools/evil.json', 'rm /run/hearth/tools/calculator.json', 'mount -o remount,rw /run/hearth/tools']) {
      await assert.rejects(sbx.commands.run(attempt, { user: 'root' }), CommandExitError, attempt);
    }
    await assert.rejects(sbx.files.write('/run/hearth/tools/evil.json', '{}', { user: 'root' }));
    const replaced = await api('PUT', `/sandboxes/${sbx.sandboxId}/tools`, { tools: [calc] });
    assert.equal(replaced.status, 200);
    assert.equal((await sbx.commands.run('ls /run/hearth/tools')).stdout, 'calculator.json\nindex.json\n');
  } finally {
    await sbx.kill();
  }
});

test('a pooled sandbox gets its tools at claim; invalid definitions are refused', async () => {
  const created = await api('POST', '/sandboxes', { templateID: 'base', tools: [calc] });
  const sbx = await Sandbox.connect(created.json['sandboxID'] as string);
  try {
    assert.match(await sbx.files.read('/run/hearth/tools/index.json'), /calculator/);
  } finally {
    await sbx.kill();
  }
  const plain = await Sandbox.create();
  try {
    assert.equal(await plain.files.read('/run/hearth/tools/index.json'), '{ "tools": [] }\n', 'no leftovers from an earlier claim');
    for (const tools of [[{ ...calc, name: '../escape' }], [calc, calc], [{ ...calc, inputSchema: 'nope' }], 'not-a-list']) {
      const refused = await api('PUT', `/sandboxes/${plain.sandboxId}/tools`, { tools });
      assert.equal(refused.status, 400, JSON.stringify(tools));
    }
    assert.equal((await api('PUT', '/sandboxes/nope/tools', { tools: [] })).status, 404);
  } finally {
    await plain.kill();
  }
});
