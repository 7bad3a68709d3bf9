// The envd `process.Process` service, served by the host and carried out by the sandbox's supervisor.
import { constants } from 'node:os';
import type { SandboxCallContext } from './sandbox-call-context.js';
import type { LiveSandbox, ProcessConfigRecord } from '../../core/sandbox-service.js';
import { InvalidArgumentError, ProcessNotFoundError, UnsupportedError } from '../../errors/hearth-error.js';
import { Fields } from '../../supervisor/frame-codec.js';
import { FieldTag, FrameType, OutputStream } from '../../supervisor/protocol.js';
import type { ProcessEvent } from '../../supervisor/supervisor-client.js';
import { aborted, startKeepalive, type RpcCall, type RpcMethod, type ServerStream } from './connect-protocol.js';
import {
  bytesField,
  enumField,
  field,
  optionalBool,
  optionalObject,
  optionalString,
  optionalUint,
  requiredString,
  stringArray,
  stringMapField,
  type JsonObject,
} from './proto-json.js';

const SIGNAL_NAMES: Record<string, number> = { SIGNAL_UNSPECIFIED: 0, SIGNAL_SIGTERM: 15, SIGNAL_SIGKILL: 9 };

/** How Go's os.ProcessState names signals, which is what E2B clients see in `status`. */
const SIGNAL_STATUS: Record<number, string> = {
  1: 'hangup', 2: 'interrupt', 3: 'quit', 4: 'illegal instruction', 6: 'aborted', 8: 'floating point exception',
  9: 'killed', 11: 'segmentation fault', 13: 'broken pipe', 14: 'alarm clock', 15: 'terminated',
};

interface Selector {
  pid?: number;
  tag?: string;
}

function parseSelector(message: JsonObject): Selector {
  const process = optionalObject(field(message, 'process'), 'process');
  if (!process) throw new InvalidArgumentError('process selector (pid or tag) is required');
  const pid = optionalUint(field(process, 'pid'), 'process.pid');
  const tag = optionalString(field(process, 'tag'), 'process.tag');
  if (pid === undefined && tag === undefined) throw new InvalidArgumentError('process selector needs a pid or a tag');
  return { ...(pid !== undefined ? { pid } : {}), ...(tag !== undefined ? { tag } : {}) };
}

async function resolvePid(live: LiveSandbox, selector: Selector): Promise<number> {
  if (selector.pid !== undefined) return selector.pid;
  for (const [pid, config] of live.processConfigs) if (config.tag === selector.tag) return pid;
  const listed = await live.client.request(FrameType.listProcesses);
  for (const entry of listed.nestedAll(FieldTag.process)) {
    if (entry.string(FieldTag.tag) === selector.tag) return entry.int(FieldTag.pid) ?? 0;
  }
  throw new ProcessNotFoundError(`with tag "${selector.tag}"`);
}

function endEvent(event: Extract<ProcessEvent, { kind: 'exit' }>): JsonObject {
  if (event.exitCode !== undefined) {
    const status = `exit status ${event.exitCode}`;
    return { exitCode: event.exitCode, exited: true, status, ...(event.exitCode !== 0 ? { error: status } : {}) };
  }
  const status = `signal: ${SIGNAL_STATUS[event.signal ?? 9] ?? `signal ${event.signal}`}`;
  return { exitCode: -1, exited: false, status, error: status };
}

function dataEvent(event: Extract<ProcessEvent, { kind: 'output' }>): JsonObject {
  const key = event.stream === OutputStream.stderr ? 'stderr' : event.stream === OutputStream.pty ? 'pty' : 'stdout';
  return { [key]: event.data.toString('base64') };
}

/** Streams a process's events until it exits or the call ends (deadline or client gone); the process itself keeps running. */
async function streamProcess(pid: number, call: RpcCall, stream: ServerStream, subscribe: (listener: (event: ProcessEvent) => void) => () => void): Promise<void> {
  const wrap = (event: JsonObject): JsonObject => ({ event });
  stream.send(wrap({ start: { pid } }));
  let finished!: () => void;
  const exited = new Promise<void>((resolve) => (finished = resolve));
  const unsubscribe = subscribe((event) => {
    if (event.kind === 'output') stream.send(wrap({ data: dataEvent(event) }));
    else {
      stream.send(wrap({ end: endEvent(event) }));
      finished();
    }
  });
  const stopKeepalive = startKeepalive(call, () => stream.send(wrap({ keepalive: {} })));
  try {
    await Promise.race([exited, aborted(call.signal)]);
  } finally {
    stopKeepalive();
    unsubscribe();
  }
}

/**
 * Holds a new process's events until its Start stream attaches, so output sent between SPAWN's reply
 * and the attach is not lost; after the stream detaches (client gone) events are dropped, not kept.
 */
class EventRelay {
  private queued: ProcessEvent[] | undefined = [];
  private target: ((event: ProcessEvent) => void) | undefined;
  exited = false;

  constructor(private readonly onExit: () => void) {}

  readonly push = (event: ProcessEvent): void => {
    if (this.target) this.target(event);
    else this.queued?.push(event);
    if (event.kind === 'exit') {
      this.exited = true;
      this.onExit();
    }
  };

  attach(listener: (event: ProcessEvent) => void): () => void {
    for (const event of this.queued?.splice(0) ?? []) listener(event);
    this.target = listener;
    return () => {
      this.target = undefined;
      this.queued = undefined;
    };
  }
}

/**
 * A started command may run until its call's deadline (E2B's command `timeoutMs`), whether or not
 * the client is still connected; then its process group is killed.
 */
function killAtDeadline(live: LiveSandbox, pid: number, call: RpcCall): void {
  if (call.deadlineAtMs === undefined) return;
  const timer = setTimeout(() => {
    remove();
    void live.client.request(FrameType.signal, new Fields().add(FieldTag.pid, pid).add(FieldTag.signo, constants.signals.SIGKILL)).catch(() => undefined);
  }, Math.max(0, call.deadlineAtMs - Date.now()));
  timer.unref();
  const remove = live.client.addProcessListener(pid, (event) => {
    if (event.kind === 'exit') clearTimeout(timer);
  });
}

export function createProcessService(): Record<string, RpcMethod<SandboxCallContext>> {
  return {
    Start: {
      kind: 'server-stream',
      handler: async (call, { live, user }, message, stream) => {
        const processMessage = optionalObject(field(message, 'process'), 'process');
        const cmd = requiredString(field(processMessage, 'cmd'), 'process.cmd');
        const args = stringArray(field(processMessage, 'args'), 'process.args');
        const envs = stringMapField(field(processMessage, 'envs'), 'process.envs');
        const cwd = optionalString(field(processMessage, 'cwd'), 'process.cwd') || live.templateWorkdir;
        const tag = optionalString(field(message, 'tag'), 'tag');
        const stdin = optionalBool(field(message, 'stdin'), 'stdin') ?? false;
        const pty = optionalObject(field(message, 'pty'), 'pty');
        const size = optionalObject(field(pty, 'size'), 'pty.size');
        const env = { ...live.record.envVars, ...envs };
        const fields = new Fields()
          .addAll(FieldTag.arg, [cmd, ...args])
          .addAll(FieldTag.env, Object.entries(env).map(([key, value]) => `${key}=${value}`))
          .add(FieldTag.cwd, cwd)
          .add(FieldTag.user, user)
          .add(FieldTag.stdin, stdin || pty ? 1 : 0)
          .add(FieldTag.tag, tag);
        if (pty) {
          fields.add(FieldTag.ptyCols, optionalUint(field(size, 'cols'), 'pty.size.cols') ?? 80);
          fields.add(FieldTag.ptyRows, optionalUint(field(size, 'rows'), 'pty.size.rows') ?? 24);
        }
        let pid = 0;
        const relay = new EventRelay(() => live.processConfigs.delete(pid));
        pid = await live.client.spawn(fields, relay.push);
        const config: ProcessConfigRecord = { cmd, args, envs, cwd, tag };
        // A command can exit before its SPAWN reply is handled here; then there is nothing to remember.
        if (!relay.exited) live.processConfigs.set(pid, config);
        killAtDeadline(live, pid, call);
        await streamProcess(pid, call, stream, (listener) => relay.attach(listener));
      },
    },
    Connect: {
      kind: 'server-stream',
      handler: async (call, { live }, message, stream) => {
        const pid = await resolvePid(live, parseSelector(message));
        if (!live.client.hasProcessListeners(pid)) {
          const listed = await live.client.request(FrameType.listProcesses);
          if (!listed.nestedAll(FieldTag.process).some((entry) => entry.int(FieldTag.pid) === pid)) throw new ProcessNotFoundError(`with pid ${pid}`);
        }
        await streamProcess(pid, call, stream, (listener) => live.client.addProcessListener(pid, listener));
      },
    },
    List: {
      kind: 'unary',
      handler: async (_call, { live }) => {
        const listed = await live.client.request(FrameType.listProcesses);
        const processes = listed.nestedAll(FieldTag.process).map((entry) => {
          const pid = entry.int(FieldTag.pid) ?? 0;
          const known = live.processConfigs.get(pid);
          const argv = entry.strings(FieldTag.arg);
          const config = known ?? {
            cmd: argv[0] ?? '',
            args: argv.slice(1),
            envs: {},
            cwd: entry.string(FieldTag.cwd),
            tag: entry.string(FieldTag.tag),
          };
          return {
            pid,
            ...(config.tag ? { tag: config.tag } : {}),
            config: { cmd: config.cmd, args: config.args, envs: config.envs, ...(config.cwd ? { cwd: config.cwd } : {}) },
          };
        });
        return { processes };
      },
    },
    SendInput: {
      kind: 'unary',
      handler: async (_call, { live }, message) => {
        const pid = await resolvePid(live, parseSelector(message));
        const input = optionalObject(field(message, 'input'), 'input');
        const data = bytesField(field(input, 'stdin') ?? field(input, 'pty'), 'input');
        await live.client.request(FrameType.writeStdin, new Fields().add(FieldTag.pid, pid).add(FieldTag.data, data));
        return {};
      },
    },
    CloseStdin: {
      kind: 'unary',
      handler: async (_call, { live }, message) => {
        const pid = await resolvePid(live, parseSelector(message));
        await live.client.request(FrameType.closeStdin, new Fields().add(FieldTag.pid, pid));
        return {};
      },
    },
    SendSignal: {
      kind: 'unary',
      handler: async (_call, { live }, message) => {
        const pid = await resolvePid(live, parseSelector(message));
        const signo = enumField(field(message, 'signal'), SIGNAL_NAMES, 'signal');
        if (!signo) throw new InvalidArgumentError('signal must be SIGNAL_SIGTERM or SIGNAL_SIGKILL');
        await live.client.request(FrameType.signal, new Fields().add(FieldTag.pid, pid).add(FieldTag.signo, signo));
        return {};
      },
    },
    Update: {
      kind: 'unary',
      handler: async (_call, { live }, message) => {
        const pid = await resolvePid(live, parseSelector(message));
        const size = optionalObject(field(optionalObject(field(message, 'pty'), 'pty'), 'size'), 'pty.size');
        if (!size) throw new InvalidArgumentError('pty.size is required');
        await live.client.request(
          FrameType.resizePty,
          new Fields()
            .add(FieldTag.pid, pid)
            .add(FieldTag.ptyCols, optionalUint(field(size, 'cols'), 'pty.size.cols') ?? 80)
            .add(FieldTag.ptyRows, optionalUint(field(size, 'rows'), 'pty.size.rows') ?? 24),
        );
        return {};
      },
    },
    StreamInput: {
      kind: 'unary',
      handler: async () => {
        throw new UnsupportedError('process.Process/StreamInput', 'client streaming needs HTTP/2; use SendInput');
      },
    },
  };
}
