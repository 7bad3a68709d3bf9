// Starting a sandbox's sentry with runsc. A fresh sandbox is one `runsc run`. A checkpoint is restored in two
// steps: `runsc create` (the sandbox and gofer processes, the platform, the cgroups) starts at once, beside
// whatever the caller still checks, and `runsc restore` loads the image into it only once the image is known
// good. On this host `create` is about half of a restore's wall time, so the image's hash costs nothing extra.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../../errors/hearth-error.js';
import { processStartTicks } from '../namespaces/process-identity.js';
import type { RunscPlatform } from './platform-choice.js';
import { globalFlags, lastLine, runsc, type RunscOptions } from './runsc-command.js';

export interface SentryLaunch {
  runsc: RunscOptions;
  sandboxId: string;
  platform: RunscPlatform;
  /** The OCI bundle directory; runsc's log and the sentry's pid file are written there. */
  bundleDir: string;
  network: 'none' | 'sandbox' | 'host';
  timeoutMs: number;
}

export interface SentryProcess {
  sentryPid: number;
  startTicks: number;
}

/** `runsc run --detach`: returns once the sentry runs. */
export async function runSentry(launch: SentryLaunch): Promise<SentryProcess> {
  const pidFile = await freshPidFile(launch);
  await runscStep(launch, 'run', ['run', '--detach', `--bundle=${launch.bundleDir}`, `--pid-file=${pidFile}`, launch.sandboxId], launch.network === 'sandbox');
  return readSentry(launch, pidFile, 'run');
}

/**
 * `runsc create`, then `runsc restore` of `imageDir` once `verified` resolved. When `verified` rejects, its
 * reason is thrown after the create finished and the image was never read; the caller deletes what create
 * started (it does so for every failure).
 */
export async function restoreSentry(launch: SentryLaunch, imageDir: string, verified: Promise<unknown>): Promise<SentryProcess> {
  const pidFile = await freshPidFile(launch);
  const created = runscStep(launch, 'create', ['create', `--bundle=${launch.bundleDir}`, `--pid-file=${pidFile}`, launch.sandboxId], false);
  const [check, creation] = await Promise.allSettled([verified, created]);
  if (check.status === 'rejected') throw check.reason;
  if (creation.status === 'rejected') throw creation.reason;
  // restore is what configures a bridged network: it runs with the host's net sysctls hidden
  await runscStep(launch, 'restore', ['restore', `--image-path=${imageDir}`, '--detach', `--bundle=${launch.bundleDir}`, launch.sandboxId], launch.network === 'sandbox');
  return readSentry(launch, pidFile, 'restore');
}

async function freshPidFile(launch: SentryLaunch): Promise<string> {
  const pidFile = path.join(launch.bundleDir, 'sentry.pid');
  await fs.rm(pidFile, { force: true });
  return pidFile;
}

/** One runsc command whose sandbox and gofer children inherit its output: both go to the bundle's runsc.log. */
async function runscStep(launch: SentryLaunch, name: string, commandArgs: string[], joinsNetwork: boolean): Promise<void> {
  const args = [...globalFlags(launch.runsc, launch.platform, launch.network), ...commandArgs];
  const logFile = path.join(launch.bundleDir, 'runsc.log');
  const outcome = await runsc(launch.runsc, args, launch.timeoutMs, logFile, joinsNetwork);
  if (outcome.code !== 0) {
    const log = await fs.readFile(logFile, 'utf8').catch(() => '');
    throw new InternalError(`runsc ${name} failed (exit ${outcome.code}): ${lastLine(log)}`);
  }
}

async function readSentry(launch: SentryLaunch, pidFile: string, step: string): Promise<SentryProcess> {
  const sentryPid = Number.parseInt(await fs.readFile(pidFile, 'utf8'), 10);
  const startTicks = Number.isInteger(sentryPid) ? await processStartTicks(sentryPid) : undefined;
  if (startTicks === undefined) throw new InternalError(`gVisor sandbox ${launch.sandboxId} exited right after runsc ${step}`);
  return { sentryPid, startTicks };
}
