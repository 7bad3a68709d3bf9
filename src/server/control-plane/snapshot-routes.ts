// E2B's persistent snapshot endpoints: POST /sandboxes/{id}/snapshots and GET /snapshots. The SDK deletes one with
// DELETE /templates/{id} (template-routes.ts asks the snapshot service first); creating a sandbox from one is a
// create whose templateID is the snapshot's id or name. Hearth adds GET and DELETE /snapshots/{id}, which never
// touch a template (the CLI uses them).
import type { ServerConfig } from '../../config/server-config.js';
import { MAX_SNAPSHOT_PAGE, type SavedSnapshotService } from '../../core/saved-snapshot-service.js';
import { parseSnapshotName } from '../../core/snapshot-refs.js';
import { InvalidArgumentError } from '../../errors/hearth-error.js';
import { SnapshotNotFoundError } from '../../errors/snapshot-errors.js';
import type { SnapshotRecord } from '../../store/store.js';
import { readJson, sendEmpty, sendJson } from '../http-io.js';
import type { Router } from '../router.js';
import { asObject } from './request-parsing.js';

/** E2B's SnapshotInfo, plus what Hearth knows about the snapshot (the SDK ignores the extra fields). */
export function snapshotView(snapshot: SnapshotRecord): Record<string, unknown> {
  return {
    snapshotID: snapshot.id,
    names: snapshot.name === null ? [] : [snapshot.name],
    sandboxID: snapshot.sourceSandboxId,
    templateID: snapshot.template.id,
    backend: snapshot.backend,
    sizeBytes: snapshot.sizeBytes,
    createdAt: new Date(snapshot.createdAtMs).toISOString(),
  };
}

function pageLimit(raw: string | null): number {
  if (raw === null || raw === '') return MAX_SNAPSHOT_PAGE;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SNAPSHOT_PAGE) throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_SNAPSHOT_PAGE}`);
  return limit;
}

export function registerSnapshotRoutes(router: Router, snapshots: SavedSnapshotService, config: ServerConfig): void {
  router.add('POST', '/sandboxes/:sandboxID/snapshots', async ({ request, response, params }) => {
    const body = asObject(await readJson(request, config.maxJsonBodyBytes), 'request body');
    const snapshot = await snapshots.create(params['sandboxID'] ?? '', parseSnapshotName(body['name']));
    sendJson(response, 201, snapshotView(snapshot));
  });

  router.add('GET', '/snapshots', async ({ response, url }) => {
    const query = url.searchParams;
    const page = await snapshots.list({
      sourceSandboxId: query.get('sandboxID') || undefined,
      ref: query.get('name') || undefined,
      limit: pageLimit(query.get('limit')),
      nextToken: query.get('nextToken') || undefined,
    });
    sendJson(response, 200, page.snapshots.map(snapshotView), page.nextToken ? { 'x-next-token': page.nextToken } : {});
  });

  router.add('GET', '/snapshots/:snapshotID', async ({ response, params }) => {
    const ref = params['snapshotID'] ?? '';
    const snapshot = await snapshots.find(ref);
    if (!snapshot) throw new SnapshotNotFoundError(ref);
    sendJson(response, 200, snapshotView(snapshot));
  });

  router.add('DELETE', '/snapshots/:snapshotID', async ({ response, params }) => {
    const ref = params['snapshotID'] ?? '';
    if (!(await snapshots.delete(ref))) throw new SnapshotNotFoundError(ref);
    sendEmpty(response, 204);
  });
}
