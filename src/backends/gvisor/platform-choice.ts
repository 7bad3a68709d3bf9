// Which runsc platform gVisor sandboxes run on. `HEARTH_GVISOR_PLATFORM=systrap|ptrace|kvm` is taken as given;
// `auto` (the default) measures what a Hearth sandbox pays most often, starting a process inside gVisor, on
// every platform this runsc has, and keeps the faster. systrap wins on most hosts; on a paravirtualised 2-core
// VM ptrace started processes 2.2x faster (17 vs 37 ms per fork+exec) while systrap ran tight syscall loops
// 9x faster, so systrap keeps the choice unless ptrace is clearly ahead. kvm is never probed: where /dev/kvm is
// not a usable hypervisor it hangs instead of failing. The measurement is kept in /run (until reboot) per runsc
// version, kernel and core count, so only the first server after a boot pays it (about 1.5 s).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BackendMisconfiguredError } from '../../errors/hearth-error.js';
import { runsc } from './runsc-command.js';

export const RUNSC_PLATFORMS = ['systrap', 'ptrace', 'kvm'] as const;
export type RunscPlatform = (typeof RUNSC_PLATFORMS)[number];

export interface PlatformChoice {
  platform: RunscPlatform;
  /** One line for the log: how the platform was chosen. */
  reason: string;
}

/** What was measured for one platform: milliseconds per fork+exec of /bin/true inside the sandbox. */
export type SpawnCostMs = Partial<Record<RunscPlatform, number>>;

interface CachedChoice {
  key: string;
  platform: RunscPlatform;
  spawnCostMs: SpawnCostMs;
}

const CHOICE_FILE = 'platform-choice.json';
const PROBE_SPAWNS = 12;
const PROBE_TIMEOUT_MS = 30_000;
/** ptrace replaces systrap only when it starts processes at least this much faster. */
const PTRACE_ADVANTAGE = 1.25;

export function isRunscPlatform(value: string): value is RunscPlatform {
  return (RUNSC_PLATFORMS as readonly string[]).includes(value);
}

/**
 * The platform for `requested` (a platform name or `auto`); `candidates` are the platforms this runsc has
 * that may be probed. `cacheDir` holds the measurement.
 */
export async function choosePlatform(requested: string, binary: string, runscVersion: number, candidates: RunscPlatform[], cacheDir: string): Promise<PlatformChoice> {
  if (isRunscPlatform(requested)) return { platform: requested, reason: 'set by HEARTH_GVISOR_PLATFORM' };
  if (requested !== 'auto') throw new BackendMisconfiguredError(`HEARTH_GVISOR_PLATFORM=${requested} is not one of auto, ${RUNSC_PLATFORMS.join(', ')}`);
  const key = `runsc ${runscVersion}, kernel ${os.release()}, ${os.cpus().length} cores, ${candidates.join('/')}`;
  const cached = await readCachedChoice(cacheDir, key);
  if (cached) return { platform: cached.platform, reason: `auto, measured after boot: ${describeCosts(cached.spawnCostMs)}` };
  const spawnCostMs: SpawnCostMs = {};
  for (const platform of candidates) {
    const cost = await measureSpawnCostMs(binary, platform, cacheDir).catch(() => undefined);
    if (cost !== undefined) spawnCostMs[platform] = cost;
  }
  const platform = fasterPlatform(spawnCostMs);
  if (!platform) throw new BackendMisconfiguredError(`runsc could not start a sandbox on any of ${candidates.join(', ')}: try \`runsc --platform=ptrace do /bin/true\` to see why`);
  await writeCachedChoice(cacheDir, { key, platform, spawnCostMs });
  return { platform, reason: `auto, measured now: ${describeCosts(spawnCostMs)}` };
}

/** systrap unless ptrace starts processes clearly faster; whichever worked when only one did. */
export function fasterPlatform(spawnCostMs: SpawnCostMs): RunscPlatform | undefined {
  const { systrap, ptrace } = spawnCostMs;
  if (systrap !== undefined && ptrace !== undefined) return ptrace * PTRACE_ADVANTAGE < systrap ? 'ptrace' : 'systrap';
  if (systrap !== undefined) return 'systrap';
  if (ptrace !== undefined) return 'ptrace';
  return undefined;
}

function describeCosts(spawnCostMs: SpawnCostMs): string {
  return Object.entries(spawnCostMs).map(([platform, ms]) => `${platform} ${ms.toFixed(1)} ms`).join(', ') + ' per process start';
}

/**
 * `runsc do` a shell that starts /bin/true `PROBE_SPAWNS` times after one warm-up and prints the time taken
 * by its own clock, so runsc's start-up is not counted.
 */
export async function measureSpawnCostMs(binary: string, platform: RunscPlatform, workDir: string): Promise<number> {
  const stateDir = await fs.mkdtemp(path.join(workDir, `probe-${platform}-`));
  const spawns = Array.from({ length: PROBE_SPAWNS }, () => '/bin/true').join('; ');
  const script = `/bin/true; s=$EPOCHREALTIME; ${spawns}; echo "$s $EPOCHREALTIME"`;
  try {
    const outcome = await runsc({ binary, stateDir }, [`--root=${stateDir}`, `--platform=${platform}`, '--network=none', 'do', '/bin/bash', '-c', script], PROBE_TIMEOUT_MS);
    if (outcome.code !== 0) throw new Error(`runsc do exited with ${String(outcome.code)}`);
    const match = /(\d+[.,]\d+) (\d+[.,]\d+)/.exec(outcome.stdout);
    if (!match?.[1] || !match[2]) throw new Error(`unexpected probe output: ${outcome.stdout.slice(0, 200)}`);
    const seconds = Number(match[2].replace(',', '.')) - Number(match[1].replace(',', '.'));
    return (seconds * 1000) / PROBE_SPAWNS;
  } finally {
    await fs.rm(stateDir, { recursive: true, force: true });
  }
}

async function readCachedChoice(cacheDir: string, key: string): Promise<CachedChoice | undefined> {
  try {
    const cached = JSON.parse(await fs.readFile(path.join(cacheDir, CHOICE_FILE), 'utf8')) as Partial<CachedChoice>;
    if (cached.key !== key || typeof cached.platform !== 'string' || !isRunscPlatform(cached.platform)) return undefined;
    return { key, platform: cached.platform, spawnCostMs: cached.spawnCostMs ?? {} };
  } catch {
    return undefined;
  }
}

async function writeCachedChoice(cacheDir: string, choice: CachedChoice): Promise<void> {
  const temporary = path.join(cacheDir, `.${CHOICE_FILE}.${process.pid}`);
  await fs.writeFile(temporary, JSON.stringify(choice) + '\n');
  await fs.rename(temporary, path.join(cacheDir, CHOICE_FILE));
}
