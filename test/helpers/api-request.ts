// One JSON request to a test server's REST API with its key: the status and the parsed body ({} when empty).
import type { ServerProcess } from './server-process.js';

export interface ApiResponse {
  status: number;
  json: Record<string, unknown>;
}

export async function apiRequest(server: Pick<ServerProcess, 'url' | 'apiKey'>, method: string, route: string, body?: unknown): Promise<ApiResponse> {
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
