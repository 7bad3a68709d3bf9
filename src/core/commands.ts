// Typed commands the edge hands to the core: one value per request, already validated.
import type { HeaderTransformRecord } from '../store/store.js';
import type { ToolDefinition } from './tool-definitions.js';
import type { BackendKind } from '../backends/backend-kinds.js';

/** Resource limits asked for by a create or a template build; an absent one falls back to the template's, then the server's. */
export interface SandboxLimits {
  cpuCount?: number;
  memoryMiB?: number;
  pidsLimit?: number;
  diskMiB?: number;
}

/** E2B's network create options and Hearth's secret grants, validated. */
export interface SandboxNetworkRequest {
  allowOut: string[];
  denyOut: string[];
  rules: Record<string, HeaderTransformRecord[]>;
  allowPublicTraffic: boolean;
  maskRequestHost: string | null;
  secrets: string[];
}

export interface CreateSandboxCommand {
  kind: 'create';
  templateId: string;
  timeoutMs: number;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  autoPause: boolean;
  /** Hearth extension: tool definitions shown read-only under /run/hearth/tools. */
  tools: ToolDefinition[];
  /** Hearth extension: resource limits for this sandbox instead of the template's. */
  limits: SandboxLimits;
  network: SandboxNetworkRequest;
  /** Hearth extension: the backend to run on instead of the template's or the server's default. */
  backend?: BackendKind;
  /** Hearth extension: run the sandbox's processes with no_new_privs (sudo and other setuid programs gain nothing). */
  noNewPrivileges?: boolean;
}

export interface ListSandboxesCommand {
  kind: 'list';
  metadata: Record<string, string>;
  states: Array<'running' | 'paused'>;
  limit: number | undefined;
  nextToken: string | undefined;
}

export interface SetTimeoutCommand {
  kind: 'set-timeout';
  sandboxId: string;
  timeoutMs: number;
}

export interface ConnectSandboxCommand {
  kind: 'connect';
  sandboxId: string;
  timeoutMs: number | undefined;
}

export interface KillSandboxCommand {
  kind: 'kill';
  sandboxId: string;
}

export type SandboxCommand =
  | CreateSandboxCommand
  | ListSandboxesCommand
  | SetTimeoutCommand
  | ConnectSandboxCommand
  | KillSandboxCommand;
