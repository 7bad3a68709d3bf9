// A small client for a running Hearth server, used by the operator commands (pool, bench).
export interface ApiClientOptions {
  url: string;
  apiKey: string;
}

export function apiClientOptions(flags: { url?: string | undefined; 'api-key'?: string | undefined }): ApiClientOptions {
  const url = flags.url ?? process.env['HEARTH_URL'] ?? process.env['E2B_API_URL'] ?? 'http://127.0.0.1:3000';
  const apiKey = flags['api-key'] ?? process.env['HEARTH_API_KEY'] ?? process.env['E2B_API_KEY'];
  if (!apiKey) throw new Error('no API key: pass --api-key or set HEARTH_API_KEY (or E2B_API_KEY)');
  return { url: url.replace(/\/$/, ''), apiKey };
}

export async function apiRequest<T>(options: ApiClientOptions, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${options.url}${path}`, {
      method,
      headers: { 'x-api-key': options.apiKey, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new Error(`cannot reach hearth at ${options.url}: ${(error as Error).message} (is \`hearth serve\` running?)`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON
    }
    throw new Error(`${method} ${path} failed with ${response.status}: ${message}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}
