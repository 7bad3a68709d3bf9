// The QEMU command line of one microVM: the `microvm` machine with PVH direct boot of an uncompressed vmlinux,
// the template root read-only on /dev/vda, the sandbox disk on /dev/vdb, the supervisor's virtio-serial port on a
// Unix-socket chardev, QMP on another socket. QEMU appends the virtio-mmio device list to the kernel command
// line, so nothing may follow `--` there: init's `guest-init` argument is passed as an unknown bare word. Restores must use the same machine shape as the snapshot's boot.
import type { Accelerator } from './qemu-host-check.js';

export interface MachineShape {
  vcpus: number;
  guestMemoryMiB: number;
  pidsLimit: number;
}

export interface QemuLaunch {
  accelerator: Accelerator;
  vmlinuxPath: string;
  rootImage: string;
  diskImage: string;
  channelSocket: string;
  /** The guest's control port (tool files), served while the host holds the main channel. */
  controlSocket: string;
  qmpSocket: string;
  consoleLog: string;
  shape: MachineShape;
  /** Extra kernel arguments (the clock source); part of a snapshot's identity, since a restore keeps the booted kernel's. */
  bootArgs: readonly string[];
  /** Guest RAM in a file: `share` for a snapshot's boot (the file becomes the snapshot), private (copy-on-write) for a restore. */
  memoryFile?: { path: string; share: boolean };
  /** Wait for an incoming migration (a restore) instead of booting. */
  incoming?: boolean;
  /** A virtio-net device on tap GUEST_TAP (QEMU runs in a private network namespace; the tap is moved out later). */
  network: boolean;
}

/** Names the device model: snapshots of another layout do not restore (their saved device state would not load). */
export const DEVICE_LAYOUT = 'blk2-rng-serial2-net1';
/** The tap QEMU creates in its private network namespace, later moved into the sandbox's. */
export const GUEST_TAP = 'hearth0';

/** -accel tcg's translation cache defaults to 1 GiB; 64 MiB keeps an idle guest small. */
const TCG_TB_SIZE_MIB = 64;

export function kernelCommandLine(shape: MachineShape, bootArgs: readonly string[] = []): string {
  return ['console=ttyS0', 'quiet', 'panic=-1', 'root=/dev/vda', 'ro', 'rootfstype=ext4', 'init=/.hearth/hearth-supervisor',
    `hearth_pids=${shape.pidsLimit}`, ...bootArgs, 'guest-init'].join(' ');
}

export function qemuArgs(launch: QemuLaunch): string[] {
  const { shape } = launch;
  const accel = launch.accelerator === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', `tcg,tb-size=${TCG_TB_SIZE_MIB}`, '-cpu', 'max'];
  // one RAM block name ("ram") for every guest, file-backed or not: a migration stream loads only into the same name
  const backend = launch.memoryFile
    ? `memory-backend-file,id=ram,size=${shape.guestMemoryMiB}M,mem-path=${launch.memoryFile.path},share=${launch.memoryFile.share ? 'on' : 'off'}`
    : `memory-backend-ram,id=ram,size=${shape.guestMemoryMiB}M`;
  const memory = ['-object', backend, '-machine', 'memory-backend=ram'];
  return [
    '-M', 'microvm,acpi=off,x-option-roms=off',
    ...accel,
    '-smp', String(shape.vcpus),
    '-m', `${shape.guestMemoryMiB}M`,
    ...memory,
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-serial', `file:${launch.consoleLog}`,
    '-kernel', launch.vmlinuxPath,
    '-append', kernelCommandLine(shape, launch.bootArgs),
    '-drive', `id=root,file=${launch.rootImage},format=raw,if=none,readonly=on`,
    '-device', 'virtio-blk-device,drive=root',
    '-drive', `id=rw,file=${launch.diskImage},format=raw,if=none,cache=unsafe`,
    '-device', 'virtio-blk-device,drive=rw',
    '-device', 'virtio-rng-device',
    '-device', 'virtio-serial-device',
    '-chardev', `socket,id=hearth,path=${launch.channelSocket},server=on,wait=off`,
    '-device', 'virtserialport,chardev=hearth,name=hearth',
    '-chardev', `socket,id=control,path=${launch.controlSocket},server=on,wait=off`,
    '-device', 'virtserialport,chardev=control,name=hearth-ctl',
    ...(launch.network ? ['-netdev', `tap,id=net0,ifname=${GUEST_TAP},script=no,downscript=no`, '-device', 'virtio-net-device,netdev=net0'] : []),
    '-qmp', `unix:${launch.qmpSocket},server=on,wait=off`,
    // no -S: a snapshot saved while running starts by itself once its state is loaded, so a restore is one command
    ...(launch.incoming ? ['-incoming', 'defer'] : []),
  ];
}
