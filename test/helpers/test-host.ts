// A stand-in for "the internet" in egress tests: an HTTP server in its own network namespace, reachable from the
// host (and so through Hearth's egress proxy) at two addresses, one to allow and one to deny. It records the
// headers of every request it serves, so a test can see what the egress proxy injected.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { testTempDir } from './test-run.js';

export interface TestHost {
  allowedAddress: string;
  deniedAddress: string;
  /** For HEARTH_DNS_HOSTS: allowed.test and *.allowed.test's sub names point at one address, denied.test at the other. */
  dnsHosts: string;
  /** CA (PEM file) that signed the test host's HTTPS certificate for allowed.test and api.allowed.test. */
  caFile: string;
  /** Headers of requests served so far (lower-case names). */
  requests(): Promise<Array<Record<string, string>>>;
  close(): Promise<void>;
}

const SERVER_SCRIPT = `
const http = require('node:http');
const https = require('node:https');
const fs = require('node:fs');
const seen = [];
const handler = (req, res) => {
  if (req.url === '/__requests') { res.end(JSON.stringify(seen)); return; }
  seen.push({ ...req.headers, 'x-test-scheme': req.socket.encrypted ? 'https' : 'http' });
  res.end('hello from the test host\\n');
};
const tls = { key: fs.readFileSync(process.env.TEST_HOST_KEY), cert: fs.readFileSync(process.env.TEST_HOST_CERT) };
let listening = 0;
const ready = () => { if (++listening === 2) process.stdout.write('ready\\n'); };
http.createServer(handler).listen(80, '0.0.0.0', ready);
https.createServer(tls, handler).listen(443, '0.0.0.0', ready);
`;

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** A throwaway CA and a certificate for the test host's names. */
function makeCertificates(dir: string): { caFile: string; keyFile: string; certFile: string } {
  const caKey = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'host.key');
  const certFile = path.join(dir, 'host.crt');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=test host CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-CA', caFile, '-CAkey', caKey, '-days', '2', '-subj', '/CN=allowed.test', '-addext', 'subjectAltName=DNS:allowed.test,DNS:api.allowed.test', '-addext', 'basicConstraints=CA:FALSE']);
  return { caFile, keyFile, certFile };
}

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
  const certificateDir = testTempDir('host-');
  const certificates = makeCertificates(certificateDir);
  const server: ChildProcess = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', SERVER_SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TEST_HOST_KEY: certificates.keyFile, TEST_HOST_CERT: certificates.certFile },
  });
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
    caFile: certificates.caFile,
    requests: async () => (await (await fetch(`http://${allowedAddress}/__requests`)).json()) as Array<Record<string, string>>,
    close: async () => {
      server.kill('SIGKILL');
      await new Promise((resolve) => server.once('exit', resolve));
      spawnSync('ip', ['netns', 'delete', namespace]);
      spawnSync('ip', ['link', 'delete', veth]);
      rmSync(certificateDir, { recursive: true, force: true });
    },
  };
}
