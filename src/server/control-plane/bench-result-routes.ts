// Keeps the last `hearth bench` result posted to this server, for the dashboard (JSON and the rendered plot).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { renderPlot } from '../../bench/bench-plot.js';
import type { BenchResult } from '../../bench/bench-result.js';
import { FileNotFoundError, InvalidArgumentError } from '../../errors/hearth-error.js';
import { readJson, sendJson } from '../http-io.js';
import type { Router } from '../router.js';

const MAX_BENCH_RESULT_BYTES = 16 * 1024 * 1024;

async function readLatest(file: string): Promise<BenchResult> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as BenchResult;
  } catch {
    throw new FileNotFoundError('no bench result yet: run `hearth bench` against this server');
  }
}

export function registerBenchResultRoutes(router: Router, dataDir: string): void {
  const file = path.join(dataDir, 'bench', 'latest.json');

  router.add('POST', '/admin/bench-results', async ({ request, response }) => {
    const body = await readJson(request, MAX_BENCH_RESULT_BYTES);
    const result = body as Partial<BenchResult>;
    if (typeof result !== 'object' || result === null || result.version !== 1 || typeof result.startedAt !== 'string') {
      throw new InvalidArgumentError('body must be a hearth bench result (version 1)');
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(result));
    sendJson(response, 201, { stored: true, startedAt: result.startedAt });
  });

  router.add('GET', '/admin/bench-results/latest', async ({ response }) => {
    sendJson(response, 200, await readLatest(file));
  });

  router.add('GET', '/admin/bench-results/latest.svg', async ({ response }) => {
    const svg = renderPlot(await readLatest(file));
    response.writeHead(200, { 'content-type': 'image/svg+xml', 'content-length': String(Buffer.byteLength(svg)) });
    response.end(svg);
  });
}
