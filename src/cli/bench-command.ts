// `hearth bench`: measures a live server through the real e2b SDK and writes a table, JSON and an SVG plot.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderPlot } from '../bench/bench-plot.js';
import { formatReport } from '../bench/bench-report.js';
import { ALL_SCENARIOS, runBench, type ScenarioName } from '../bench/bench-runner.js';
import { apiClientOptions, apiRequest } from './api-client.js';

const HELP = `usage: hearth bench [--runs 200] [--warmup 10] [--ramp 1,10,50] [--density 100] [--only pool,cold,exec,ramp,density,gvisor,resume,snapshot,microvm,floors]
                    [--template base] [--gvisor-template base-gvisor] [--snapshot-template warm-python] [--snapshot-cold-template warm-python-cold] [--microvm-template base-microvm] [--microvm-boot-template base-microvm-boot] [--out bench-results] [--quick] [--drop-caches] [--url URL] [--api-key KEY]

Measures a running server through the real e2b SDK on loopback: create→first output for pool hits and
cold starts (also of a gVisor template), exec round trip, a concurrency ramp, idle memory per sandbox, and the bwrap/runsc floors.
Prints a table and writes bench-<time>.json and bench-<time>.svg into --out.
`;

function positiveInt(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${flag} must be a non-negative integer, got "${value}"`);
  return number;
}

export async function runBenchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      warmup: { type: 'string' },
      ramp: { type: 'string' },
      'ramp-creates': { type: 'string' },
      density: { type: 'string' },
      only: { type: 'string' },
      'gvisor-template': { type: 'string', default: 'base-gvisor' },
      'snapshot-template': { type: 'string', default: 'warm-python' },
      'snapshot-cold-template': { type: 'string', default: 'warm-python-cold' },
      'microvm-template': { type: 'string', default: 'base-microvm' },
      'microvm-boot-template': { type: 'string', default: 'base-microvm-boot' },
      template: { type: 'string', default: 'base' },
      out: { type: 'string', default: 'bench-results' },
      quick: { type: 'boolean', default: false },
      'drop-caches': { type: 'boolean', default: false },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const quick = values.quick;
  const scenarios = (values.only?.split(',').map((s) => s.trim()) ?? [...ALL_SCENARIOS]) as ScenarioName[];
  for (const scenario of scenarios) if (!ALL_SCENARIOS.includes(scenario)) throw new Error(`unknown scenario "${scenario}": choose from ${ALL_SCENARIOS.join(', ')}`);
  const rampLevels = (values.ramp ?? (quick ? '1,4' : '1,10,50')).split(',').map((level) => positiveInt(level, '--ramp')).filter((level) => level > 0);
  let lastLine = '';
  const progress = (label: string, done: number, total: number): void => {
    const line = `  ${label}: ${done}/${total}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(60)}${done === total ? '\n' : ''}`);
    else if (done === total || done % Math.max(1, Math.floor(total / 4)) === 0) {
      if (line !== lastLine) process.stderr.write(`${line}\n`);
      lastLine = line;
    }
  };
  const client = apiClientOptions(values);
  const result = await runBench({
    client,
    templateId: values.template,
    gvisorTemplateId: values['gvisor-template'],
    snapshotTemplateId: values['snapshot-template'],
    snapshotColdTemplateId: values['snapshot-cold-template'],
    microvmTemplateId: values['microvm-template'],
    microvmBootTemplateId: values['microvm-boot-template'],
    runs: positiveInt(values.runs ?? (quick ? '10' : '200'), '--runs'),
    warmup: positiveInt(values.warmup ?? (quick ? '2' : '10'), '--warmup'),
    rampLevels,
    rampCreatesPerLevel: positiveInt(values['ramp-creates'] ?? (quick ? '8' : '200'), '--ramp-creates'),
    rampPoolTarget: quick ? 4 : 32,
    densitySandboxes: positiveInt(values.density ?? (quick ? '5' : '100'), '--density'),
    scenarios,
    dropCaches: values['drop-caches'],
    quick,
    progress,
  });
  const report = formatReport(result);
  process.stdout.write(`\n${report}\n`);
  mkdirSync(values.out, { recursive: true });
  const stamp = result.startedAt.replaceAll(':', '-').replace(/\..*$/, '');
  const jsonPath = path.join(values.out, `bench-${stamp}.json`);
  const svgPath = path.join(values.out, `bench-${stamp}.svg`);
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(svgPath, renderPlot(result));
  writeFileSync(path.join(values.out, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nwrote ${jsonPath} and ${svgPath}\n`);
  try {
    await apiRequest(client, 'POST', '/admin/bench-results', result);
  } catch (error) {
    process.stderr.write(`could not hand the result to the server's dashboard: ${(error as Error).message}\n`);
  }
  return 0;
}
