// The floors Hearth is compared with, measured in the same run: bubblewrap and gVisor running /bin/true.
import { spawn, spawnSync } from 'node:child_process';
import type { BenchContext } from './bench-context.js';
import { elapsedMs } from './bench-context.js';
import type { FloorResult } from './bench-result.js';
import { summarize } from './latency-stats.js';

interface FloorSpec {
  name: string;
  binary: string;
  args: string[];
}

const FLOORS: readonly FloorSpec[] = [
  { name: 'bwrap', binary: 'bwrap', args: ['--unshare-all', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '/bin/true'] },
  { name: 'runsc', binary: 'runsc', args: ['--network=none', 'do', '/bin/true'] },
];

function which(binary: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const found = result.stdout.trim();
  return result.status === 0 && found ? found : undefined;
}

function runOnce(binary: string, args: string[]): Promise<{ ms: number; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => resolve({ ms: elapsedMs(started), code: -1, stderr: error.message }));
    child.once('close', (code) => resolve({ ms: elapsedMs(started), code, stderr }));
  });
}

/** Each floor is timed as a process spawned from Node, exactly like Hearth's own launcher. */
export async function measureFloors(context: BenchContext, runs: number): Promise<FloorResult[]> {
  const results: FloorResult[] = [];
  for (const floor of FLOORS) {
    const command = `${floor.binary} ${floor.args.join(' ')}`;
    const path = which(floor.binary);
    if (!path) {
      results.push({ name: floor.name, command, latency: undefined, skipped: `${floor.binary} is not installed` });
      continue;
    }
    const samples: number[] = [];
    let failure: string | undefined;
    for (let index = 0; index < runs + context.warmup; index += 1) {
      const run = await runOnce(path, floor.args);
      if (run.code !== 0) {
        failure = `${floor.binary} exited with ${run.code}: ${run.stderr.trim().split('\n').pop() ?? ''}`;
        break;
      }
      if (index >= context.warmup) samples.push(run.ms);
      context.progress(`floor ${floor.name}`, index + 1, runs + context.warmup);
    }
    results.push({ name: floor.name, command, latency: failure ? undefined : summarize(samples), skipped: failure });
  }
  return results;
}
