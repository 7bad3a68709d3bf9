// `hearth serve`: starts the server on embedded defaults and keeps running until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { defaultConfig } from '../config/server-config.js';
import { consoleLogger } from '../core/logger.js';
import { startHearthServer } from '../server/hearth-server.js';

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: process.env['HEARTH_PORT'] ?? '3000' },
      host: { type: 'string', default: process.env['HEARTH_HOST'] ?? '127.0.0.1' },
      'data-dir': { type: 'string' },
      'templates-dir': { type: 'string' },
      'kill-on-exit': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got "${values.port}"`);
  const base = defaultConfig(values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  const config = { ...base, host: values.host ?? base.host, port, ...(values['templates-dir'] ? { templatesDir: values['templates-dir'] } : {}) };
  const log = consoleLogger(values.quiet);
  const server = await startHearthServer(config, log, process.env['HEARTH_API_KEY']);
  const keyLine = server.createdApiKey
    ? `API key (created now, shown once): ${server.createdApiKey}`
    : process.env['HEARTH_API_KEY']
      ? 'API key: taken from HEARTH_API_KEY'
      : `API key: the one printed on first start (data dir ${config.dataDir})`;
  process.stdout.write(
    [
      `hearth listening on ${server.url}`,
      keyLine,
      `use it with the e2b SDK: E2B_API_URL=${server.url} E2B_SANDBOX_URL=${server.url} E2B_API_KEY=<key>`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log.info('shutting down');
  await server.close({ killSandboxes: values['kill-on-exit'] });
  return 0;
}
