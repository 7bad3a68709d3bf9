// `hearth` command line: dispatches to one module per subcommand.
import { runServe } from './serve-command.js';
import { runTemplate } from './template-command.js';
import { runPool } from './pool-command.js';
import { runBenchCommand } from './bench-command.js';
import { runBudget } from './budget-command.js';
import { runCost } from './cost-command.js';
import { runEgress } from './egress-command.js';
import { runSecret } from './secret-command.js';
import { runSnapshot } from './snapshot-command.js';

const HELP = `hearth: self-hosted sandboxes for AI agents with an E2B-compatible API

usage:
  hearth serve [--port 3000] [--host 127.0.0.1] [--data-dir DIR] [--templates-dir DIR]
               [--config FILE] [--pool TEMPLATE=SIZE]... [--kill-on-exit]
               [--sandbox-disk-gb 64 | --no-sandbox-disk]
               [--network bridged|none] [--bridge hearth0] [--sandbox-subnet 10.77.0.0/16]
               [--dns-host NAME=IP]... [--sandbox-domain DOMAIN] [--secrets-key-file FILE]
  hearth pool ls                       pools: target, ready, claims, misses
  hearth pool set TEMPLATE SIZE        resize a template's warm pool
  hearth secret set NAME [--value V]   store a secret (sealed); grant it at create with "secrets"
  hearth secret ls | rm NAME           list secret names; delete (revokes it from running sandboxes)
  hearth snapshot create ID [--name N] save a sandbox's memory and files; Sandbox.create(N) starts from it
  hearth snapshot ls | rm ID_OR_NAME   list persistent snapshots; delete one (frees its files)
  hearth egress SANDBOX_ID             a sandbox's egress audit log: allowed and denied connections
  hearth bench [--quick] [--runs N]    p50/p95/p99 of create, exec, ramp, density and floors
  hearth budget --target T --start S   latency budget: what each sandbox start leaves for inference
  hearth cost --per-day N --exec D     req/s, compute hours, cost per day and month, pool break-even
  hearth template build-base [--templates-dir DIR]
  hearth help

Point the e2b SDK at a running server:
  E2B_API_URL=http://127.0.0.1:3000 E2B_SANDBOX_URL=http://127.0.0.1:3000 E2B_API_KEY=<printed key>
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'template':
      return runTemplate(rest);
    case 'pool':
      return runPool(rest);
    case 'bench':
      return runBenchCommand(rest);
    case 'budget':
      return runBudget(rest);
    case 'secret':
      return runSecret(rest);
    case 'snapshot':
      return runSnapshot(rest);
    case 'egress':
      return runEgress(rest);
    case 'cost':
      return runCost(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`hearth: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`hearth: ${message}\n`);
    process.exitCode = 1;
  },
);
