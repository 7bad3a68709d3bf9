// Supervisor protocol generation 1: frame types and field tags (docs/supervisor-protocol.md).

export const PROTOCOL_GENERATION = 1;
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const FRAME_HEADER_BYTES = 9;

export const FrameType = {
  hello: 1,
  spawn: 2,
  writeStdin: 3,
  closeStdin: 4,
  signal: 5,
  resizePty: 6,
  listProcesses: 7,
  stat: 10,
  listDir: 11,
  makeDir: 12,
  move: 13,
  remove: 14,
  readFile: 15,
  writeOpen: 16,
  writeData: 17,
  writeClose: 18,
  watch: 19,
  unwatch: 20,
  ping: 21,
  setHostname: 22,
  identify: 23,
  /** microVM guests, on the control port: replace the read-only tool files. */
  tools: 24,
  ok: 64,
  error: 65,
  fileData: 66,
  output: 80,
  exit: 81,
  fsEvent: 82,
  watchEnd: 83,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FieldTag = {
  generation: 1,
  pid: 2,
  arg: 3,
  env: 4,
  cwd: 5,
  user: 6,
  ptyCols: 7,
  ptyRows: 8,
  stdin: 9,
  tag: 10,
  data: 11,
  signo: 12,
  stream: 13,
  exitCode: 14,
  errno: 15,
  message: 16,
  process: 17,
  path: 20,
  target: 21,
  depth: 22,
  entry: 23,
  name: 24,
  type: 25,
  size: 26,
  mode: 27,
  owner: 28,
  group: 29,
  mtimeNs: 30,
  symlinkTarget: 31,
  created: 32,
  handle: 33,
  recursive: 34,
  watch: 35,
  event: 36,
  /** IDENTIFY's network fields (microVM guests). */
  netMac: 37,
  netAddress: 38,
  netGateway: 39,
  nameserver: 40,
  trustedCa: 41,
  noNewPrivileges: 42,
} as const;
export type FieldTag = (typeof FieldTag)[keyof typeof FieldTag];

export const OutputStream = { stdout: 1, stderr: 2, pty: 3 } as const;
export type OutputStream = (typeof OutputStream)[keyof typeof OutputStream];

export const EntryType = { file: 1, directory: 2, symlink: 3, other: 4 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export const FsEventKind = { create: 1, write: 2, remove: 3, rename: 4, chmod: 5 } as const;
export type FsEventKind = (typeof FsEventKind)[keyof typeof FsEventKind];
