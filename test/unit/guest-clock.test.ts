// The microVM guest's clock arguments: the host TSC's frequency under TCG when the host's flags say it is known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clockBootArgs, hostTscKhz } from '../../src/backends/microvm/guest-clock.js';

const cpuinfo = (flags: string, mhz = '2600.000'): string => `processor\t: 0\ncpu MHz\t\t: ${mhz}\nflags\t\t: fpu tsc ${flags} sse2\n`;

test('the TSC frequency is used only when it is constant and known', () => {
  assert.equal(hostTscKhz(cpuinfo('constant_tsc nonstop_tsc tsc_known_freq')), 2_600_000);
  assert.equal(hostTscKhz(cpuinfo('constant_tsc nonstop_tsc')), undefined);
  assert.equal(hostTscKhz(cpuinfo('constant_tsc nonstop_tsc tsc_known_freq', 'n/a')), undefined);
  assert.equal(hostTscKhz(''), undefined);
});

test('TCG guests get the TSC arguments; KVM guests and unknown frequencies get none', () => {
  assert.deepEqual(clockBootArgs('tcg', 2_600_000), ['tsc_early_khz=2600000', 'tsc=reliable']);
  assert.deepEqual(clockBootArgs('kvm', 2_600_000), []);
  assert.deepEqual(clockBootArgs('tcg', undefined), []);
});
