// The guest's clock source. Under TCG the guest kernel cannot calibrate its TSC (no HPET or ACPI PM timer on the
// microvm machine, and the PIT calibration fails under emulation), so it falls back to jiffies: clock_gettime
// then moves in 4 ms steps and sleeps round up to them. QEMU's TCG TSC is the host's own, so when the host
// knows its TSC frequency (constant, known frequency) the guest is told it and trusts its TSC.
import { readFileSync } from 'node:fs';
import type { Accelerator } from './qemu-host-check.js';

/** The host TSC frequency in kHz, when the host's CPU flags say it is constant and known. */
export function hostTscKhz(cpuinfo = readCpuinfo()): number | undefined {
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  if (!flags.includes('constant_tsc') || !flags.includes('nonstop_tsc') || !flags.includes('tsc_known_freq')) return undefined;
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)$/m.exec(cpuinfo)?.[1]);
  return Number.isFinite(mhz) && mhz > 0 ? Math.round(mhz * 1000) : undefined;
}

/** Kernel arguments for the guest's clock: none under KVM (kvmclock), the host TSC's frequency under TCG when known. */
export function clockBootArgs(accelerator: Accelerator, tscKhz: number | undefined): string[] {
  if (accelerator !== 'tcg' || tscKhz === undefined) return [];
  return [`tsc_early_khz=${tscKhz}`, 'tsc=reliable'];
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}
