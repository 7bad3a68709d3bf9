// `hearth serve`: starts the server on embedded defaults and keeps running until SIGINT/SIGTERM.
import { consoleLogger } from '../core/logger.js';
import { startHearthServer } from '../server/hearth-server.js';
import { parseServeOptions } from './serve-options.js';

export async function runServe(argv: string[]): Promise<number> {
  const { config, killOnExit, quiet } = parseServeOptions(argv);
  // Handlers go in before anything is printed: a supervisor that signals us as soon as it reads
  // "listening" must never hit the default action, which would kill us halfway through a cleanup.
  let requestStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  process.on('SIGINT', () => requestStop());
  process.on('SIGTERM', () => requestStop());
  const log = consoleLogger(quiet);
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
  await stopRequested;
  log.info('shutting down');
  await server.close({ killSandboxes: killOnExit });
  return 0;
}
