// A stand-in for "the internet" in egress tests: an HTTP server in its own network namespace, reachable from the
// host (and so through Hearth's egress proxy) at two addresses, one to allow and one to deny. It records the
// headers of every request it serves, so a test can see what the egress proxy injected.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface TestHost {
  allowedAddress: string;
  deniedAddress: string;
  /** For HEARTH_DNS_HOSTS: allowed.test and *.allowed.test's sub names point at one address, denied.test at the other. */
  dnsHosts: string;
  /** Headers of requests served so far (lower-case names). */
  requests(): Promise<Array<Record<string, string>>>;
  close(): Promise<void>;
}

const SERVER_SCRIPT = `
const http = require('node:http');
const seen = [];
const server = http.createServer((req, res) => {
  if (req.url === '/__requests') { res.end(JSON.stringify(seen)); return; }
  seen.push(req.headers);
  res.end('hello from the test host\\n');
});
server.listen(80, '0.0.0.0', () => process.stdout.write('ready\\n'));
`;

function ip(args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr}`);
}

export async function startTestHost(): Promise<TestHost> {
  const suffix = randomBytes(3).toString('hex');
  const namespace = `hthost${suffix}`;
  const veth = `hth${suffix}`;
  const subnetByte = 10 + (randomBytes(1)[0] ?? 0) % 80;
  const prefix = `10.99.${subnetByte}`;
  ip(['netns', 'add', namespace]);
  ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
  ip(['addr', 'add', `${prefix}.1/24`, 'dev', veth]);
  ip(['link', 'set', veth, 'up']);
  ip(['-n', namespace, 'addr', 'add', `${prefix}.2/24`, 'dev', 'eth0']);
  ip(['-n', namespace, 'addr', 'add', `${prefix}.3/24`, 'dev', 'eth0']);
  ip(['-n', namespace, 'link', 'set', 'eth0', 'up']);
  ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
  const server: ChildProcess = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', SERVER_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('test host server did not start')), 10_000);
    server.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const allowedAddress = `${prefix}.2`;
  const deniedAddress = `${prefix}.3`;
  return {
    allowedAddress,
    deniedAddress,
    dnsHosts: `allowed.test=${allowedAddress} api.allowed.test=${allowedAddress} denied.test=${deniedAddress}`,
    requests: async () => (await (await fetch(`http://${allowedAddress}/__requests`)).json()) as Array<Record<string, string>>,
    close: async () => {
      server.kill('SIGKILL');
      await new Promise((resolve) => server.once('exit', resolve));
      spawnSync('ip', ['netns', 'delete', namespace]);
      spawnSync('ip', ['link', 'delete', veth]);
    },
  };
}
