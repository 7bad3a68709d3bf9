// Serves the dashboard's static files (dashboard/ in the project); the data it shows comes from the API with the API key.
import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/server-config.js';

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export function isDashboardAsset(method: string | undefined, pathname: string): boolean {
  return method === 'GET' && pathname in ASSETS;
}

export async function serveDashboardAsset(pathname: string, response: ServerResponse): Promise<void> {
  const asset = ASSETS[pathname];
  if (!asset) throw new Error(`not a dashboard asset: ${pathname}`);
  const body = await fs.readFile(path.join(PROJECT_ROOT, 'dashboard', asset.file));
  response.writeHead(200, {
    'content-type': asset.type,
    'content-length': String(body.length),
    'cache-control': 'no-cache',
    'content-security-policy': "default-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'",
  });
  response.end(body);
}
