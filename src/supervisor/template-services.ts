// A template's services: its start command runs in the background as the template's user, and the caller waits
// until the ready check exits 0. Sandboxes started cold run them before create returns (pooled ones before they
// are frozen); the microVM backend runs them once in the guest its template snapshot is taken from.
import { SandboxUnavailableError } from '../errors/hearth-error.js';
import type { TemplateRecord } from '../store/store.js';
import { Fields } from './frame-codec.js';
import { FieldTag } from './protocol.js';
import { runToExit } from './run-to-exit.js';
import type { SupervisorClient } from './supervisor-client.js';

export const START_COMMAND_TAG = 'hearth-start-command';
const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 100;

export function hasTemplateServices(template: TemplateRecord): boolean {
  return Boolean(template.config.startCmd || template.config.readyCmd);
}

export async function startTemplateServices(client: SupervisorClient, template: TemplateRecord): Promise<void> {
  const { startCmd, readyCmd, user, workdir } = template.config;
  const command = (text: string): Fields => new Fields().addAll(FieldTag.arg, ['/bin/bash', '-l', '-c', text]).add(FieldTag.user, user).add(FieldTag.cwd, workdir);
  if (startCmd) await client.spawn(command(startCmd).add(FieldTag.tag, START_COMMAND_TAG), () => undefined);
  if (!readyCmd) return;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if ((await runToExit(client, command(readyCmd))) === 0) return;
    if (Date.now() > deadline) throw new SandboxUnavailableError(`template ${template.id}: ready check \`${readyCmd}\` did not pass within ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}
