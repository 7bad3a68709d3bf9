// What every data-plane call knows once it is routed and authorised: the sandbox and the acting user.
import type { LiveSandbox } from '../../core/sandbox-service.js';

export interface SandboxCallContext {
  live: LiveSandbox;
  /** The sandbox user the call acts as (`user` unless the client asked for another, e.g. `root`). */
  user: string;
}
