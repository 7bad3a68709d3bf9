// Typed commands the edge hands to the core: one value per request, already validated.
import type { ToolDefinition } from './tool-definitions.js';

/** Resource limits asked for by a create or a template build; an absent one falls back to the template's, then the server's. */
export interface SandboxLimits {
  cpuCount?: number;
  memoryMiB?: number;
  pidsLimit?: number;
  diskMiB?: number;
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
