// Shared input handling of the model commands (budget, cost): argv clean-up, typed usage errors, exit code 2.
import { InvalidArgumentError } from '../errors/hearth-error.js';

/**
 * Lets `--target -5ms` reach the command's own check (Node's parser would take `-5ms` for a flag),
 * and `--measured` stand alone without a file.
 */
export function normalizeModelArgv(argv: readonly string[], valueFlags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index] ?? '';
    const next = argv[index + 1];
    const name = token.startsWith('--') && !token.includes('=') ? token.slice(2) : undefined;
    if (name === 'measured' && (next === undefined || next.startsWith('-'))) {
      out.push('--measured=');
    } else if (name !== undefined && valueFlags.has(name) && next !== undefined && /^-[\d.$]/.test(next)) {
      out.push(`${token}=${next}`);
      index += 1;
    } else {
      out.push(token);
    }
  }
  return out;
}

/** Flags both model commands take: measured start times, output format, how to reach the server, help. */
export const MODEL_COMMON_OPTIONS = {
  measured: { type: 'string' },
  json: { type: 'boolean', default: false },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

/** Runs a flag parser, turning its multi-line complaints into one typed usage error. */
export function parseOrUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/\s*\n\s*/g, ' '), { cause: error });
  }
}

/** Bad input prints one line on stderr and exits 2; anything else propagates to the main handler. */
export async function runWithUsageErrors(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    process.stderr.write(`hearth ${command}: ${error.message}\n`);
    return 2;
  }
}
