// The resolver sandboxes use (every UDP query to port 53 is sent here): refuses names the sandbox's policy
// denies, remembers which addresses each allowed name resolved to (so the egress proxy can check raw
// connections against them), and answers AAAA with nothing because sandboxes have no IPv6 route.
import dgram from 'node:dgram';
import type { Logger } from '../core/logger.js';
import { buildReply, DnsRcode, DnsType, parseQuestion, readAnswers } from './dns-message.js';
import type { EgressAudit } from './egress-audit.js';
import { decideLookup } from './egress-policy.js';
import type { SandboxNetworkRegistry } from './sandbox-network-registry.js';
import type { UpstreamResolver } from './upstream-resolver.js';

export class SandboxDnsServer {
  private socket: dgram.Socket | undefined;

  constructor(
    private readonly registry: SandboxNetworkRegistry,
    private readonly resolver: UpstreamResolver,
    private readonly audit: EgressAudit,
    private readonly log: Logger,
  ) {}

  async listen(host: string): Promise<number> {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (message, remote) => void this.answer(message, remote.address, remote.port));
    socket.on('error', (error) => this.log.warn(`sandbox DNS server: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    return socket.address().port;
  }

  private reply(message: Buffer, address: string, port: number): void {
    this.socket?.send(message, port, address);
  }

  private async answer(message: Buffer, address: string, port: number): Promise<void> {
    const question = parseQuestion(message);
    if (!question) return;
    const sandbox = this.registry.get(address);
    if (!sandbox) return this.reply(buildReply(question, DnsRcode.refused), address, port);
    const verdict = decideLookup(sandbox.policy, question.name);
    if (!verdict.allowed) {
      this.audit({ sandboxId: sandbox.sandboxId, action: 'deny', protocol: 'dns', host: question.name, address: null, port: null, reason: verdict.reason });
      return this.reply(buildReply(question, DnsRcode.refused), address, port);
    }
    if (question.type === DnsType.AAAA) return this.reply(buildReply(question, DnsRcode.noError), address, port);
    const fixed = this.resolver.staticAnswer(question.name);
    if (fixed) {
      if (question.type === DnsType.A) this.registry.recordLookup(address, question.name, fixed, 60);
      return this.reply(buildReply(question, DnsRcode.noError, question.type === DnsType.A ? fixed : []), address, port);
    }
    const upstreamReply = await this.resolver.forward(message);
    if (!upstreamReply) return this.reply(buildReply(question, DnsRcode.serverFailure), address, port);
    const answers = readAnswers(upstreamReply);
    if (answers && answers.addresses.length > 0) this.registry.recordLookup(address, question.name, answers.addresses, answers.minTtlSeconds);
    this.reply(upstreamReply, address, port);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
