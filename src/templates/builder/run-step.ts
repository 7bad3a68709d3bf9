// RUN: executes one command in a throwaway build sandbox whose writable layer becomes the step's new layer.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Backend } from '../../backends/backend.js';
import { SANDBOX_UID_BASE } from '../../backends/namespaces/sandbox-identity.js';
import { SANDBOX_PATH } from '../../core/sandbox-service.js';
import { DEFAULT_TEMPLATE_CONFIG, type TemplateRecord } from '../../store/store.js';
import { Fields } from '../../supervisor/frame-codec.js';
import { FieldTag } from '../../supervisor/protocol.js';
import { SupervisorClient } from '../../supervisor/supervisor-client.js';
import { runToExit } from '../../supervisor/run-to-exit.js';

export interface RunStepOptions {
  backend: Backend;
  /** Layers below this step, topmost first. */
  layers: string[];
  upperDir: string;
  argv: string[];
  env: Record<string, string>;
  user: string;
  cwd: string;
  onOutput: (text: string) => void;
  memoryMiB: number;
}

const BUILD_SUPERVISOR_TIMEOUT_MS = 10_000;
const BUILD_PIDS_LIMIT = 4096;

/** Gives the build sandbox the host's DNS for the duration of the step, without baking it into the layer. */
async function withResolvConf<T>(upperDir: string, body: () => Promise<T>): Promise<T> {
  const etc = path.join(upperDir, 'etc');
  const file = path.join(etc, 'resolv.conf');
  let createdEtc = false;
  try {
    await fs.mkdir(etc, { mode: 0o755 });
    await fs.chown(etc, SANDBOX_UID_BASE, SANDBOX_UID_BASE);
    createdEtc = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  await fs.copyFile('/etc/resolv.conf', file).catch(() => fs.writeFile(file, 'nameserver 127.0.0.53\n'));
  try {
    return await body();
  } finally {
    await fs.rm(file, { force: true });
    if (createdEtc) await fs.rmdir(etc).catch(() => undefined);
  }
}

/** Runs the step and returns its exit code (or 128+signal). The build sandbox shares the host's network. */
export async function runBuildStep(options: RunStepOptions): Promise<number> {
  const sandboxId = `build${randomBytes(8).toString('hex')}`;
  const template: TemplateRecord = {
    id: 'build',
    aliases: [],
    layers: options.layers,
    config: DEFAULT_TEMPLATE_CONFIG,
    buildMs: 0,
    createdAtMs: Date.now(),
    cpuCount: 2,
    memoryMiB: options.memoryMiB,
    diskMiB: 0,
    pidsLimit: BUILD_PIDS_LIMIT,
    sizeBytes: 0,
    status: 'ready',
  };
  return withResolvConf(options.upperDir, async () => {
    const started = await options.backend.start({
      sandboxId,
      hostname: 'hearth-build',
      template,
      cpuCount: 2,
      memoryMiB: options.memoryMiB,
      pidsLimit: BUILD_PIDS_LIMIT,
      // Build steps write a caller-owned layer outside the sandboxes disk: no disk limit.
      diskMiB: 0,
      baseEnv: { PATH: SANDBOX_PATH, LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', ...options.env },
      network: 'host',
      toolsMount: false,
      upperDir: options.upperDir,
    });
    let client: SupervisorClient | undefined;
    try {
      client = await SupervisorClient.connect({ socketPath: started.endpoint.socketPath, connectTimeoutMs: BUILD_SUPERVISOR_TIMEOUT_MS });
      return await runToExit(
        client,
        new Fields()
          .addAll(FieldTag.arg, options.argv)
          .addAll(FieldTag.env, Object.entries(options.env).map(([key, value]) => `${key}=${value}`))
          .add(FieldTag.cwd, options.cwd)
          .add(FieldTag.user, options.user),
        (data) => options.onOutput(data.toString('utf8')),
      );
    } finally {
      client?.close();
      await options.backend.stop(started.runtime);
    }
  });
}
