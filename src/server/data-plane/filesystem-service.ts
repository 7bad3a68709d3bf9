// The envd `filesystem.Filesystem` service: stat, list, mkdir, move, remove and directory watches.
import { randomUUID } from 'node:crypto';
import type { SandboxCallContext } from './sandbox-call-context.js';
import type { LiveSandbox } from '../../core/sandbox-service.js';
import { AlreadyExistsError, FileNotFoundError, InvalidArgumentError, ProtocolError } from '../../errors/hearth-error.js';
import { Fields } from '../../supervisor/frame-codec.js';
import { FieldTag, FrameType, FsEventKind } from '../../supervisor/protocol.js';
import type { WatchEvent } from '../../supervisor/supervisor-client.js';
import { aborted, startKeepalive, type RpcMethod } from './connect-protocol.js';
import { entryInfoJson } from './entry-info.js';
import { field, optionalBool, optionalUint, requiredString, type JsonObject } from './proto-json.js';

const EVENT_TYPE_NAMES: Record<number, string> = {
  [FsEventKind.create]: 'EVENT_TYPE_CREATE',
  [FsEventKind.write]: 'EVENT_TYPE_WRITE',
  [FsEventKind.remove]: 'EVENT_TYPE_REMOVE',
  [FsEventKind.rename]: 'EVENT_TYPE_RENAME',
  [FsEventKind.chmod]: 'EVENT_TYPE_CHMOD',
};

const MAX_POLLED_EVENTS = 10_000;

interface PolledWatcher {
  watchId: number;
  events: JsonObject[];
}

const polledWatchers = new WeakMap<LiveSandbox, Map<string, PolledWatcher>>();

function watchersOf(live: LiveSandbox): Map<string, PolledWatcher> {
  let map = polledWatchers.get(live);
  if (!map) {
    map = new Map();
    polledWatchers.set(live, map);
  }
  return map;
}

/** Temporary files of in-flight uploads (see files-route.ts) are an implementation detail, not user events. */
const UPLOAD_TEMPORARY = /\.hearth-upload-[0-9a-f]{12}$/;

function isUserEvent(event: WatchEvent): event is Extract<WatchEvent, { kind: 'fs' }> {
  return event.kind === 'fs' && !UPLOAD_TEMPORARY.test(event.name);
}

function fsEventJson(event: Extract<WatchEvent, { kind: 'fs' }>): JsonObject {
  return { name: event.name, type: EVENT_TYPE_NAMES[event.event] ?? 'EVENT_TYPE_UNSPECIFIED' };
}

function entryOf(reply: Fields): JsonObject {
  const entry = reply.nested(FieldTag.entry);
  if (!entry) throw new ProtocolError('supervisor reply carries no entry');
  return entryInfoJson(entry);
}

function watchFields(message: JsonObject, user: string): Fields {
  return new Fields()
    .add(FieldTag.path, requiredString(field(message, 'path'), 'path'))
    .add(FieldTag.recursive, optionalBool(field(message, 'recursive'), 'recursive') ? 1 : 0)
    .add(FieldTag.user, user);
}

export function createFilesystemService(): Record<string, RpcMethod<SandboxCallContext>> {
  const pathRequest = (message: JsonObject, user: string): Fields =>
    new Fields().add(FieldTag.path, requiredString(field(message, 'path'), 'path')).add(FieldTag.user, user);

  return {
    Stat: {
      kind: 'unary',
      handler: async (_call, { live, user }, message) => {
        return { entry: entryOf(await live.client.request(FrameType.stat, pathRequest(message, user))) };
      },
    },
    ListDir: {
      kind: 'unary',
      handler: async (_call, { live, user }, message) => {
        const depth = optionalUint(field(message, 'depth'), 'depth') || 1;
        const reply = await live.client.request(FrameType.listDir, pathRequest(message, user).add(FieldTag.depth, depth));
        return { entries: reply.nestedAll(FieldTag.entry).map(entryInfoJson) };
      },
    },
    MakeDir: {
      kind: 'unary',
      handler: async (_call, { live, user }, message) => {
        const reply = await live.client.request(FrameType.makeDir, pathRequest(message, user));
        if (reply.int(FieldTag.created) === 0) throw new AlreadyExistsError(`directory ${String(field(message, 'path'))} already exists`);
        return { entry: entryOf(reply) };
      },
    },
    Move: {
      kind: 'unary',
      handler: async (_call, { live, user }, message) => {
        const fields = new Fields()
          .add(FieldTag.path, requiredString(field(message, 'source'), 'source'))
          .add(FieldTag.target, requiredString(field(message, 'destination'), 'destination'))
          .add(FieldTag.user, user);
        return { entry: entryOf(await live.client.request(FrameType.move, fields)) };
      },
    },
    Remove: {
      kind: 'unary',
      handler: async (_call, { live, user }, message) => {
        await live.client.request(FrameType.remove, pathRequest(message, user));
        return {};
      },
    },
    WatchDir: {
      kind: 'server-stream',
      handler: async (call, { live, user }, message, stream) => {
        let ended!: () => void;
        const watchEnded = new Promise<void>((resolveEnd) => (ended = resolveEnd));
        const watchId = await live.client.watch(watchFields(message, user), (event) => {
          if (isUserEvent(event)) stream.send({ filesystem: fsEventJson(event) });
          else if (event.kind === 'end') ended();
        });
        stream.send({ start: {} });
        const stopKeepalive = startKeepalive(call, () => stream.send({ keepalive: {} }));
        try {
          await Promise.race([watchEnded, aborted(call.signal)]);
        } finally {
          stopKeepalive();
          live.client.removeWatchListener(watchId);
          await live.client.request(FrameType.unwatch, new Fields().add(FieldTag.watch, watchId)).catch(() => undefined);
        }
      },
    },
    CreateWatcher: {
      kind: 'unary',
      handler: async (_call, { live, user }, message) => {
        const watcher: PolledWatcher = { watchId: 0, events: [] };
        watcher.watchId = await live.client.watch(watchFields(message, user), (event) => {
          if (isUserEvent(event) && watcher.events.length < MAX_POLLED_EVENTS) watcher.events.push(fsEventJson(event));
        });
        const watcherId = randomUUID();
        watchersOf(live).set(watcherId, watcher);
        return { watcherId };
      },
    },
    GetWatcherEvents: {
      kind: 'unary',
      handler: async (_call, { live }, message) => {
        const watcherId = requiredString(field(message, 'watcherId', 'watcher_id'), 'watcherId');
        const watcher = watchersOf(live).get(watcherId);
        if (!watcher) throw new FileNotFoundError(`watcher ${watcherId} not found`);
        return { events: watcher.events.splice(0) };
      },
    },
    RemoveWatcher: {
      kind: 'unary',
      handler: async (_call, { live }, message) => {
        const watcherId = requiredString(field(message, 'watcherId', 'watcher_id'), 'watcherId');
        const watcher = watchersOf(live).get(watcherId);
        if (!watcher) throw new InvalidArgumentError(`watcher ${watcherId} not found`);
        watchersOf(live).delete(watcherId);
        live.client.removeWatchListener(watcher.watchId);
        await live.client.request(FrameType.unwatch, new Fields().add(FieldTag.watch, watcher.watchId));
        return {};
      },
    },
  };
}
