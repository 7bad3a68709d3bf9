// Which backend a sandbox runs on: the create's `backend` field, else its template's `hearth.backend` label, else the server's default.
import { parseBackendKind, type BackendKind } from '../backends/backend-kinds.js';
import type { TemplateRecord } from '../store/store.js';
import type { CreateSandboxCommand } from './commands.js';

/** The template label (set with `LABEL hearth.backend=gvisor` in its Dockerfile) that picks its sandboxes' backend. */
export const TEMPLATE_BACKEND_LABEL = 'hearth.backend';

/** The explicitly chosen backend, or undefined for the server's default. */
export function chosenBackend(template: TemplateRecord, command: Pick<CreateSandboxCommand, 'backend'> | undefined): BackendKind | undefined {
  if (command?.backend) return command.backend;
  const label = template.config.labels[TEMPLATE_BACKEND_LABEL];
  return label === undefined ? undefined : parseBackendKind(label, `template ${template.id}'s label ${TEMPLATE_BACKEND_LABEL}`);
}

/** Whether the template's pooled sandboxes (started without a create) run where this create wants to run. */
export function poolServesBackend(template: TemplateRecord, command: Pick<CreateSandboxCommand, 'backend'>, defaultKind: string): boolean {
  return (chosenBackend(template, command) ?? defaultKind) === (chosenBackend(template, undefined) ?? defaultKind);
}
