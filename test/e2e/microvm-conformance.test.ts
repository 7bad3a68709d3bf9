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
  skips: {
    'tool files are mounted read-only at /run/hearth/tools and can be replaced':
      'tool files are not offered inside microVM guests yet: they need a replaceable read-only disk or a virtiofs share (no vhost-user here); writeTools succeeds without effect',
  },
});
