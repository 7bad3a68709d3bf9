// Assembles a running Hearth: store, auth, backend, templates, sandbox lifecycle and the HTTP edge.
import { promises as fs } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { NamespacesBackend } from '../backends/namespaces/namespaces-backend.js';
import { serverBackends } from '../backends/server-backends.js';
import type { ServerConfig } from '../config/server-config.js';
import type { Logger } from '../core/logger.js';
import { SandboxService } from '../core/sandbox-service.js';
import { installSnapshotServices } from '../core/snapshot-services.js';
import { TemplateService } from '../core/template-service.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { DEFAULT_TEMPLATE_CONFIG, type Store } from '../store/store.js';
import { BASE_TEMPLATE_ID, baseTemplatePaths, ensureBaseTemplate } from '../templates/base-template.js';
import { SandboxNetworkManager } from '../network/sandbox-network-manager.js';
import { parseStaticHosts, systemUpstreams } from '../network/upstream-resolver.js';
import { SecretSealer } from '../secrets/secret-sealer.js';
import { SecretService } from '../secrets/secret-service.js';
import { ApiKeyAuth } from './api-key-auth.js';
import { createHttpServer, listen } from './http-server.js';

export interface RunningServer {
  url: string;
  port: number;
  createdApiKey: string | undefined;
  sandboxes: SandboxService;
  store: Store;
  close(options?: { killSandboxes?: boolean }): Promise<void>;
}

export async function startHearthServer(config: ServerConfig, log: Logger, apiKey: string | undefined): Promise<RunningServer> {
  await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const sandboxesDir = path.join(config.dataDir, 'sandboxes');
  await fs.mkdir(sandboxesDir, { recursive: true, mode: 0o700 });
  const store = new SqliteStore(path.join(config.dataDir, 'hearth.db'));
  const namespaces = new NamespacesBackend({
    sandboxesDir,
    supervisorBinary: config.supervisorBinary,
    cgroupParent: config.cgroupParent,
    launchTimeoutMs: 10_000,
    ...(config.sandboxDiskLimits ? { disk: { imagePath: path.join(config.dataDir, 'sandboxes.img'), sizeGiB: config.sandboxDiskGiB } } : {}),
  });
  const backend = serverBackends(namespaces, config, (line) => log.info(line));
  await backend.checkHost();

  const manifest = await ensureBaseTemplate(config.templatesDir, (line) => log.info(line));
  await store.upsertTemplate({
    id: BASE_TEMPLATE_ID,
    aliases: [BASE_TEMPLATE_ID],
    layers: [baseTemplatePaths(config.templatesDir).rootfs],
    config: DEFAULT_TEMPLATE_CONFIG,
    buildMs: manifest.buildMs,
    createdAtMs: manifest.builtAtMs,
    cpuCount: config.defaultCpuCount,
    memoryMiB: config.defaultMemoryMiB,
    diskMiB: config.defaultDiskMiB,
    pidsLimit: config.defaultPidsLimit,
    sizeBytes: manifest.sizeBytes,
    status: 'ready',
  });

  const auth = new ApiKeyAuth(store);
  const { createdKey } = await auth.bootstrap(apiKey);
  const secrets = new SecretService(store, await SecretSealer.open(config.secretsKeyFile));
  const network =
    config.network === 'bridged'
      ? await SandboxNetworkManager.start(
          {
            bridge: config.networkBridge,
            subnet: config.sandboxSubnet,
            spareNamespaces: 4,
            upstreams: systemUpstreams(),
            staticHosts: parseStaticHosts(config.dnsHosts),
            certificateDir: path.dirname(config.secretsKeyFile),
            upstreamCaFile: config.egressUpstreamCaFile,
          },
          store,
          secrets,
          log,
        )
      : undefined;
  const sandboxes = new SandboxService(store, backend, config, log, network);
  const snapshots = installSnapshotServices(store, backend, sandboxes, network, config.dataDir, log);
  const orphanSnapshots = await snapshots.saved.removeOrphanFiles();
  if (orphanSnapshots > 0) log.info(`removed the files of ${orphanSnapshots} deleted or unfinished snapshot(s)`);
  const recovered = await sandboxes.recover();
  if (recovered.reattached + recovered.reaped > 0) {
    log.info(`after restart: re-attached ${recovered.reattached} sandbox(es), reaped ${recovered.reaped}`);
  }
  sandboxes.startReaper();
  const storedTargets = await store.listPoolTargets();
  if (!storedTargets.some((pool) => pool.templateId === BASE_TEMPLATE_ID) && config.poolTargets[BASE_TEMPLATE_ID] === undefined) {
    await store.setPoolTarget({ templateId: BASE_TEMPLATE_ID, target: config.defaultBasePoolTarget });
  }
  for (const [templateId, target] of Object.entries(config.poolTargets)) await sandboxes.setPoolTarget(templateId, target);
  await sandboxes.startPools();

  const templates = new TemplateService(store, backend, config, log);
  const server: http.Server = createHttpServer({ config, sandboxes, store, auth, templates, secrets, log, snapshots });
  const address = await listen(server, config.host, config.port);
  const url = config.publicUrl ?? `http://${address.address}:${address.port}`;
  config.sandboxDomain ??= `localhost:${address.port}`;
  return {
    url,
    port: address.port,
    createdApiKey: createdKey,
    sandboxes,
    store,
    close: async (options = {}) => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (options.killSandboxes) await sandboxes.killAll('server shut down');
      await sandboxes.shutdown();
      await network?.close({ teardown: options.killSandboxes === true });
      await backend.close();
      await store.close();
    },
  };
}
