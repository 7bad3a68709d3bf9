// Read-only template listing in E2B's shape (building templates comes with the Dockerfile builder).
import type { Store, TemplateRecord } from '../../store/store.js';
import { TemplateNotFoundError } from '../../errors/hearth-error.js';
import { sendJson } from '../http-io.js';
import type { Router } from '../router.js';

function templateView(template: TemplateRecord): Record<string, unknown> {
  return {
    templateID: template.id,
    buildID: template.id,
    aliases: template.aliases,
    names: template.aliases,
    public: false,
    cpuCount: template.cpuCount,
    memoryMB: template.memoryMiB,
    diskSizeMB: template.diskMiB,
    createdAt: new Date(template.createdAtMs).toISOString(),
    updatedAt: new Date(template.createdAtMs).toISOString(),
    buildStatus: template.status,
    sizeBytes: template.sizeBytes,
  };
}

export function registerTemplateRoutes(router: Router, store: Store): void {
  router.add('GET', '/templates', async ({ response }) => {
    sendJson(response, 200, (await store.listTemplates()).map(templateView));
  });
  router.add('GET', '/templates/:templateID', async ({ response, params }) => {
    const template = await store.getTemplate(params['templateID'] ?? '');
    if (!template) throw new TemplateNotFoundError(params['templateID'] ?? '');
    sendJson(response, 200, templateView(template));
  });
}
