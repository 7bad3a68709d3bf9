// Creates a real sandbox for a test and always kills it afterwards, even when the test fails.
import { Sandbox, type SandboxOpts } from 'e2b';

export async function withSandbox<T>(body: (sandbox: Sandbox) => Promise<T>, opts: SandboxOpts = {}): Promise<T> {
  const sandbox = await Sandbox.create({ timeoutMs: 120_000, ...opts });
  try {
    return await body(sandbox);
  } finally {
    await sandbox.kill().catch(() => undefined);
  }
}

export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
