// Whether the host's CRIU can checkpoint a namespaces sandbox, and if not, exactly why: `criu check` and
// the known gaps between CRIU releases and newer kernels, each named with the release that closes it.
import { execFile } from 'node:child_process';
import os from 'node:os';

const CRIU_TIMEOUT_MS = 10_000;

export interface CriuProbe {
  /** `criu --version` output; undefined when criu could not be run. */
  versionOutput: string | undefined;
  /** `criu check` stdout and stderr together. */
  checkOutput: string;
  checkExitCode: number;
  /** os.release(), e.g. 6.18.44-fc-v669. */
  kernelRelease: string;
}

type Triple = [number, number, number];

/** `Version: 3.17.1` → [3, 17, 1]; undefined when absent. */
export function parseCriuVersion(output: string): Triple | undefined {
  const match = /Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** `6.18.44-fc-v669` → [6, 18, 44]; undefined when unreadable. */
export function parseKernelRelease(release: string): Triple | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

function atLeast(version: Triple, wanted: Triple): boolean {
  for (let index = 0; index < 3; index++) {
    const have = version[index] ?? 0;
    const want = wanted[index] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

/** The first `Error (file:line): message` of CRIU's output, without its source location. */
export function firstCriuError(output: string): string | undefined {
  for (const line of output.split('\n')) {
    const match = /Error \([^)]*\):\s*(.+)$/.exec(line);
    if (match?.[1]) return match[1].trim();
  }
  return undefined;
}

/** Undefined when this CRIU can checkpoint sandboxes on this kernel; otherwise why not, in one sentence. */
export function criuUnsupportedReason(probe: CriuProbe): string | undefined {
  if (probe.versionOutput === undefined) return 'criu is not installed (apt-get install criu)';
  const version = parseCriuVersion(probe.versionOutput);
  if (!version) return `cannot read the version of criu from "${probe.versionOutput.trim().slice(0, 100)}"`;
  const named = `CRIU ${version.join('.')}`;
  const kernel = parseKernelRelease(probe.kernelRelease);
  const checkError = firstCriuError(probe.checkOutput);
  if (/vDSO area bounds|vdso symtable/i.test(probe.checkOutput) && !atLeast(version, [4, 1, 0])) {
    return `${named} cannot run on Linux ${probe.kernelRelease}: \`criu check\` fails with "vdso: Unexpected rt vDSO area bounds" because Linux 6.13 split the vDSO data into [vvar] and [vvar_vclock] mappings, which CRIU reads only from 4.1 on`;
  }
  if (probe.checkExitCode !== 0) return `\`criu check\` fails on this host: ${checkError ?? (probe.checkOutput.trim().split('\n').pop() ?? 'no output')}`;
  if (kernel && atLeast(kernel, [6, 16, 0]) && !atLeast(version, [4, 2, 0])) {
    return `${named} cannot save a TCP or UDP socket on Linux ${probe.kernelRelease}: since Linux 6.16 getsockopt(SO_PASSCRED) on an inet socket fails with EOPNOTSUPP, which CRIU treats as fatal before 4.2`;
  }
  return undefined;
}

function run(binary: string, args: string[]): Promise<{ code: number; output: string } | undefined> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: CRIU_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return resolve(undefined);
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Runs `criu --version` and `criu check` on this host. */
export async function probeCriu(binary: string): Promise<CriuProbe> {
  const version = await run(binary, ['--version']);
  const check = version ? await run(binary, ['check']) : undefined;
  return { versionOutput: version?.output, checkOutput: check?.output ?? '', checkExitCode: check?.code ?? 1, kernelRelease: os.release() };
}
