// JSON shapes of sandboxes as E2B's REST API returns them.
import type { SandboxRecord } from '../../store/store.js';

/** The envd protocol version Hearth's data plane implements (gates features in the SDK). */
export const ENVD_VERSION = '0.5.7';
export const CLIENT_ID = 'hearth';

/** `domain` makes the SDK's `sbx.getHost(port)` return `<port>-<sandboxId>.<domain>`, which Hearth forwards to the port. */
export function createdSandboxView(record: SandboxRecord, domain: string | undefined): Record<string, unknown> {
  return {
    templateID: record.templateId,
    sandboxID: record.id,
    alias: record.templateId,
    clientID: CLIENT_ID,
    envdVersion: ENVD_VERSION,
    envdAccessToken: record.accessToken,
    trafficAccessToken: record.network.trafficAccessToken,
    domain: domain ?? null,
  };
}

function networkView(record: SandboxRecord): Record<string, unknown> {
  const { allowOut, denyOut, rules, allowPublicTraffic, maskRequestHost } = record.network;
  return {
    allowOut,
    denyOut,
    rules: Object.fromEntries(Object.entries(rules).map(([host, list]) => [host, list.map((rule) => ({ transform: { headers: rule.headers } }))])),
    allowPublicTraffic,
    ...(maskRequestHost ? { maskRequestHost } : {}),
  };
}

function publicState(record: SandboxRecord): string {
  return record.state === 'paused' ? 'paused' : 'running';
}

export function listedSandboxView(record: SandboxRecord): Record<string, unknown> {
  return {
    templateID: record.templateId,
    alias: record.templateId,
    sandboxID: record.id,
    clientID: CLIENT_ID,
    startedAt: new Date(record.startedAtMs).toISOString(),
    endAt: new Date(record.endAtMs).toISOString(),
    cpuCount: record.cpuCount,
    memoryMB: record.memoryMiB,
    diskSizeMB: record.diskMiB,
    /** Hearth extension (E2B's SandboxInfo has no such field; the SDK ignores it). */
    pidsLimit: record.pidsLimit,
    metadata: record.metadata,
    state: publicState(record),
    envdVersion: ENVD_VERSION,
    volumeMounts: [],
  };
}

export function sandboxDetailView(record: SandboxRecord, domain: string | undefined): Record<string, unknown> {
  return {
    ...listedSandboxView(record),
    envdAccessToken: record.accessToken,
    domain: domain ?? null,
    allowInternetAccess: !record.network.denyOut.includes('0.0.0.0/0'),
    network: networkView(record),
    /** Hearth extensions: the sandbox's address on the bridge and the secrets granted to it (names only). */
    address: record.network.address ?? null,
    secrets: record.network.secrets,
    lifecycle: { onTimeout: record.onTimeout ?? 'kill', autoResume: false },
  };
}
