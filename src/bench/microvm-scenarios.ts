// microVM scenarios, create→first output through the SDK: pool hit (a restored guest, paused and frozen),
// restore (the template's memory snapshot into a pre-spawned QEMU), boot (a template labelled
// hearth.microvm.snapshot=off); the exec round trip in a running guest (the per-command floor of the accelerator,
// which every create→first output includes); PSS per idle restored guest; and the accelerator the guests run under.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Sandbox } from 'e2b';
import { apiRequest } from '../cli/api-client.js';
import { DEFAULT_MICROVM_DIR } from '../backends/microvm/microvm-options.js';
import { findQemu, probeKvm } from '../backends/microvm/qemu-host-check.js';
import type { BenchContext } from './bench-context.js';
import { sdkOptions, setPoolTarget } from './bench-context.js';
import type { DensityResult } from './bench-result.js';
import { measureColdStarts, measureExecRoundTrip, measurePoolHits } from './create-scenarios.js';
import { measureDensity } from './density-scenario.js';

export const MICROVM_TEMPLATE_HINT =
  "build it once with: printf 'FROM base\\nLABEL hearth.backend=microvm\\n' > Dockerfile && hearth template build -t base-microvm .";
export const MICROVM_BOOT_TEMPLATE_HINT =
  "build it once with: printf 'FROM base\\nLABEL hearth.backend=microvm\\nLABEL hearth.microvm.snapshot=off\\n' > Dockerfile && hearth template build -t base-microvm-boot .";

export interface MicrovmSamples {
  poolHit: number[];
  restore: number[];
  execRoundTrip: number[];
  boot: number[] | string;
  density: DensityResult;
  accelerator: string;
}

async function hasTemplate(context: BenchContext, templateId: string): Promise<boolean> {
  const templates = await apiRequest<Array<{ templateID?: string; aliases?: string[] }>>(context.client, 'GET', '/templates');
  return templates.some((template) => template.templateID === templateId || template.aliases?.includes(templateId));
}

/** What the server's guests run under, probed here like the server does (bench and server share the machine). */
export function microvmAccelerator(): string {
  const forced = process.env['HEARTH_MICROVM_ACCEL'];
  if (forced) return `${forced} (HEARTH_MICROVM_ACCEL)`;
  const qemu = findQemu();
  const kernelDir = path.join(process.env['HEARTH_MICROVM_DIR'] ?? DEFAULT_MICROVM_DIR, 'kernel');
  const kernel = existsSync(kernelDir) ? readdirSync(kernelDir).map((name) => path.join(kernelDir, name, 'vmlinux')).find((file) => existsSync(file)) : undefined;
  if (!qemu || !kernel) return 'unknown (no QEMU or guest kernel on the bench machine)';
  return probeKvm(qemu, kernel, 5_000) ? 'kvm' : 'tcg (KVM cannot run the guest kernel here: software CPU emulation)';
}

/** A reason string when the server has no microVM template. */
export async function measureMicrovm(context: BenchContext, templateId: string, bootTemplateId: string, densitySandboxes: number): Promise<MicrovmSamples | string> {
  if (!(await hasTemplate(context, templateId))) return `no template "${templateId}" on the server: ${MICROVM_TEMPLATE_HINT}`;
  const microvm: BenchContext = { ...context, templateId, progress: (label, done, total) => context.progress(`microVM ${label}`, done, total) };
  try {
    // untimed: the first create may build the root image and take the template's snapshot (a minute or two under TCG)
    const first = await Sandbox.create(templateId, { ...sdkOptions(context), requestTimeoutMs: 600_000 });
    await first.kill();
    const poolHit = await measurePoolHits(microvm, 0);
    const restore = await measureColdStarts(microvm);
    const execRoundTrip = await measureExecRoundTrip({ ...microvm, runs: Math.min(context.runs, 30), warmup: Math.min(context.warmup, 3) });
    const density = await measureDensity(microvm, densitySandboxes);
    let boot: number[] | string = `no template "${bootTemplateId}" on the server: ${MICROVM_BOOT_TEMPLATE_HINT}`;
    if (await hasTemplate(context, bootTemplateId)) {
      // a boot takes seconds under TCG: a few runs tell enough
      const booting: BenchContext = { ...microvm, templateId: bootTemplateId, runs: Math.min(context.runs, 5), warmup: 0 };
      boot = await measureColdStarts(booting);
    }
    return { poolHit, restore, execRoundTrip, boot, density, accelerator: microvmAccelerator() };
  } finally {
    await setPoolTarget(microvm, 0).catch(() => undefined);
  }
}
