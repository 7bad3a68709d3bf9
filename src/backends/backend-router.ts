// One Backend in front of several: a sandbox starts on the kind its spec names (else the server default)
// and every later call goes to the kind recorded in its runtime. A non-default backend is checked on
// first use, so a server whose default is namespaces starts without runsc installed.
import { BackendMisconfiguredError, InternalError, UnsupportedError } from '../errors/hearth-error.js';
import type { Backend, BackendCapabilities, ResourceUsage, SandboxRuntime, SandboxSnapshot, SandboxSpec, StartedSandbox, SupervisorEndpoint } from './backend.js';
import { isBackendKind, type BackendKind } from './backend-kinds.js';

/** Runtimes written before the router existed carry no kind: they are namespaces sandboxes. */
const UNMARKED_RUNTIME_KIND: BackendKind = 'namespaces';

export class BackendRouter implements Backend {
  readonly kind: BackendKind;
  private readonly checks = new Map<BackendKind, Promise<void>>();

  constructor(
    private readonly backends: ReadonlyMap<BackendKind, Backend>,
    readonly defaultKind: BackendKind,
  ) {
    if (!backends.has(defaultKind)) throw new InternalError(`default backend ${defaultKind} is not configured`);
    this.kind = defaultKind;
  }

  /** The kinds this server offers (whether or not the host passed their checks yet). */
  kinds(): BackendKind[] {
    return [...this.backends.keys()];
  }

  private backend(kind: BackendKind): Backend {
    const backend = this.backends.get(kind);
    if (!backend) throw new BackendMisconfiguredError(`backend ${kind} is not enabled on this server`);
    return backend;
  }

  private forRuntime(runtime: SandboxRuntime): Backend {
    const kind = runtime['backend'] ?? UNMARKED_RUNTIME_KIND;
    if (!isBackendKind(kind)) throw new InternalError(`sandbox runtime names unknown backend ${String(kind)}`);
    return this.backend(kind);
  }

  /** Checks the host for `kind` once; a failure is remembered and repeated to every caller. */
  ready(kind: BackendKind): Promise<void> {
    let check = this.checks.get(kind);
    if (!check) {
      check = this.backend(kind).checkHost();
      this.checks.set(kind, check);
    }
    return check;
  }

  capabilities(): BackendCapabilities {
    return this.backend(this.defaultKind).capabilities();
  }

  capabilitiesOf(kind: BackendKind): BackendCapabilities {
    return this.backend(kind).capabilities();
  }

  /** Only the default backend must pass at start-up; the others fail the creates that ask for them. */
  async checkHost(): Promise<void> {
    await this.ready(this.defaultKind);
  }

  async start(spec: SandboxSpec): Promise<StartedSandbox> {
    const kind = spec.backend ?? this.defaultKind;
    await this.ready(kind);
    const started = await this.backend(kind).start(spec);
    return { ...started, runtime: { ...started.runtime, backend: kind } };
  }

  stop(runtime: SandboxRuntime): Promise<void> {
    return this.forRuntime(runtime).stop(runtime);
  }

  isAlive(runtime: SandboxRuntime): Promise<boolean> {
    return this.forRuntime(runtime).isAlive(runtime);
  }

  endpoint(runtime: SandboxRuntime): SupervisorEndpoint {
    return this.forRuntime(runtime).endpoint(runtime);
  }

  usage(runtime: SandboxRuntime): Promise<ResourceUsage | undefined> {
    return this.forRuntime(runtime).usage(runtime);
  }

  pids(runtime: SandboxRuntime): Promise<number[]> {
    return this.forRuntime(runtime).pids(runtime);
  }

  writeTools(runtime: SandboxRuntime, files: Record<string, string>): Promise<void> {
    return this.forRuntime(runtime).writeTools(runtime, files);
  }

  freeze(runtime: SandboxRuntime): Promise<void> {
    return this.forRuntime(runtime).freeze(runtime);
  }

  thaw(runtime: SandboxRuntime): Promise<void> {
    return this.forRuntime(runtime).thaw(runtime);
  }

  pause(runtime: SandboxRuntime): Promise<SandboxRuntime> {
    return this.forRuntime(runtime).pause(runtime);
  }

  resume(runtime: SandboxRuntime): Promise<SandboxRuntime> {
    return this.forRuntime(runtime).resume(runtime);
  }

  async snapshot(runtime: SandboxRuntime, dir: string): Promise<SandboxSnapshot> {
    const backend = this.forRuntime(runtime);
    if (!backend.snapshot) throw new UnsupportedError('snapshot', `the ${backend.kind} backend cannot checkpoint a running sandbox's memory (use the gvisor backend)`);
    return backend.snapshot(runtime, dir);
  }

  async restore(spec: SandboxSpec, snapshot: SandboxSnapshot): Promise<StartedSandbox> {
    const kind = spec.backend ?? this.defaultKind;
    const backend = this.backend(kind);
    if (!backend.restore) throw new UnsupportedError('restore', `the ${kind} backend cannot start a sandbox from a memory snapshot (use the gvisor backend)`);
    await this.ready(kind);
    const started = await backend.restore(spec, snapshot);
    return { ...started, runtime: { ...started.runtime, backend: kind } };
  }

  /** Each backend that passed its host check reaps what it left behind (they keep their sandboxes in separate directories). */
  async reapOrphans(keepSandboxIds: ReadonlySet<string>): Promise<number> {
    let reaped = 0;
    for (const [kind, backend] of this.backends) {
      const usable = await this.ready(kind).then(() => true, () => false);
      if (usable) reaped += await backend.reapOrphans(keepSandboxIds);
    }
    return reaped;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.backends.values()].map((backend) => backend.close()));
  }
}
