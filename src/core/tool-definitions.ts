// Tool definitions given to a sandbox: validated here, shown read-only under /run/hearth/tools inside it.
import { InvalidArgumentError } from '../errors/hearth-error.js';

export const TOOLS_MOUNT_PATH = '/run/hearth/tools';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_TOOLS = 256;
const MAX_DEFINITION_BYTES = 256 * 1024;

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** For HTTP tools: the endpoint calls go to. */
  http?: { url: string; method: string };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseToolDefinitions(value: unknown): ToolDefinition[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError('tools must be a list of tool definitions');
  if (value.length > MAX_TOOLS) throw new InvalidArgumentError(`at most ${MAX_TOOLS} tools per sandbox`);
  const seen = new Set<string>();
  return value.map((entry, index) => {
    if (!isObject(entry)) throw new InvalidArgumentError(`tools[${index}] must be an object`);
    const { name, description, inputSchema, http } = entry;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new InvalidArgumentError(`tools[${index}].name must be 1-64 letters, digits, '.', '_' or '-' (it becomes a file name)`);
    if (seen.has(name)) throw new InvalidArgumentError(`tool "${name}" is defined twice`);
    seen.add(name);
    if (typeof description !== 'string') throw new InvalidArgumentError(`tools[${index}].description must be a string`);
    if (!isObject(inputSchema)) throw new InvalidArgumentError(`tools[${index}].inputSchema must be a JSON Schema object`);
    let endpoint: ToolDefinition['http'];
    if (http !== undefined) {
      if (!isObject(http) || typeof http['url'] !== 'string' || !/^https?:\/\//.test(http['url'])) throw new InvalidArgumentError(`tools[${index}].http.url must be an http(s) URL`);
      endpoint = { url: http['url'], method: typeof http['method'] === 'string' ? http['method'].toUpperCase() : 'POST' };
    }
    const tool: ToolDefinition = { name, description, inputSchema, ...(endpoint ? { http: endpoint } : {}) };
    if (JSON.stringify(tool).length > MAX_DEFINITION_BYTES) throw new InvalidArgumentError(`tool "${name}" is larger than ${MAX_DEFINITION_BYTES} bytes`);
    return tool;
  });
}

/** The files the sandbox sees: one `<name>.json` per tool plus `index.json`. */
export function toolFiles(tools: readonly ToolDefinition[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const tool of tools) files[`${tool.name}.json`] = `${JSON.stringify(tool, null, 2)}\n`;
  const index = tools.map((tool) => ({ name: tool.name, description: tool.description, file: `${TOOLS_MOUNT_PATH}/${tool.name}.json`, kind: tool.http ? 'http' : 'local' }));
  files['index.json'] = `${JSON.stringify({ tools: index }, null, 2)}\n`;
  return files;
}
