// Whether a sandbox's processes run with no_new_privs (setuid binaries such as sudo then gain nothing): the
// create's `noNewPrivileges`, else its template's `hearth.no-new-privileges` label, else off, so that E2B
// templates' passwordless sudo keeps working.
import { InvalidArgumentError } from '../errors/hearth-error.js';
import type { TemplateRecord } from '../store/store.js';
import type { CreateSandboxCommand } from './commands.js';

export const NO_NEW_PRIVILEGES_LABEL = 'hearth.no-new-privileges';

function templateDefault(template: TemplateRecord): boolean {
  const label = template.config.labels[NO_NEW_PRIVILEGES_LABEL];
  if (label === undefined) return false;
  if (label !== 'true' && label !== 'false') throw new InvalidArgumentError(`template ${template.id}: label ${NO_NEW_PRIVILEGES_LABEL} must be true or false, not "${label}"`);
  return label === 'true';
}

export function noNewPrivileges(template: TemplateRecord, command: Pick<CreateSandboxCommand, 'noNewPrivileges'> | undefined): boolean {
  return command?.noNewPrivileges ?? templateDefault(template);
}

/** Whether the template's pooled sandboxes (started without a create) have the setting this create wants. */
export function poolServesPrivileges(template: TemplateRecord, command: Pick<CreateSandboxCommand, 'noNewPrivileges'>): boolean {
  return noNewPrivileges(template, command) === templateDefault(template);
}
