// Runs the Backend contract suite against the microvm backend (under TCG on hosts whose KVM cannot run it).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runBackendContract } from '../contract/backend-contract.js';
import { findQemu, KERNEL_INSTALL_HINT, QEMU_INSTALL_HINT } from '../../src/backends/microvm/qemu-host-check.js';
import { DEFAULT_MICROVM_DIR } from '../../src/backends/microvm/microvm-options.js';

const microvmDir = process.env['HEARTH_MICROVM_DIR'] ?? DEFAULT_MICROVM_DIR;
const kernelDir = path.join(microvmDir, 'kernel');
const hasKernel = existsSync(kernelDir) && readdirSync(kernelDir).some((name) => existsSync(path.join(kernelDir, name, 'vmlinux')));

runBackendContract({
  kind: 'microvm',
  ...(!findQemu() ? { unavailable: `QEMU is not installed: ${QEMU_INSTALL_HINT}` } : !hasKernel ? { unavailable: `no guest kernel: ${KERNEL_INSTALL_HINT}` } : {}),
});
