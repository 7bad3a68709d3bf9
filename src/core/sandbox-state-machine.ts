// The sandbox lifecycle: which state changes are legal. Every transition in core goes through here.
import { ConflictError } from '../errors/hearth-error.js';
import type { SandboxState } from '../store/store.js';

const TRANSITIONS: Record<SandboxState, readonly SandboxState[]> = {
  starting: ['running', 'pooled', 'failed', 'stopping'],
  pooled: ['running', 'stopping'],
  running: ['stopping', 'paused', 'killed'],
  paused: ['running', 'stopping', 'killed'],
  stopping: ['killed'],
  killed: [],
  failed: [],
};

export const LIVE_STATES: readonly SandboxState[] = ['starting', 'pooled', 'running', 'paused', 'stopping'];

export function canTransition(from: SandboxState, to: SandboxState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(sandboxId: string, from: SandboxState, to: SandboxState): void {
  if (!canTransition(from, to)) {
    throw new ConflictError(`sandbox ${sandboxId} cannot go from ${from} to ${to}`);
  }
}
