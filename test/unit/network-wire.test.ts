// The wire formats the egress path reads: DNS messages, TLS ClientHello / HTTP Host, conntrack lines.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { buildQuery, buildReply, DnsRcode, DnsType, parseQuestion, readAnswers } from '../../src/network/dns-message.js';
import { findOriginalDestination } from '../../src/network/original-destination.js';
import { sniff } from '../../src/network/traffic-sniffer.js';

test('a DNS question round-trips into a reply with A records that readAnswers reads back', () => {
  const query = buildQuery(0x1234, 'Api.Example.com', DnsType.A);
  const question = parseQuestion(query);
  assert.ok(question);
  assert.equal(question.name, 'api.example.com');
  assert.equal(question.type, DnsType.A);
  const reply = buildReply(question, DnsRcode.noError, ['10.0.0.7', '10.0.0.8'], 120);
  assert.equal(reply.readUInt16BE(0), 0x1234);
  assert.deepEqual(readAnswers(reply), { rcode: 0, addresses: ['10.0.0.7', '10.0.0.8'], minTtlSeconds: 120 });
  assert.equal(readAnswers(buildReply(question, DnsRcode.refused))?.rcode, DnsRcode.refused);
  assert.equal(parseQuestion(Buffer.from([1, 2, 3])), undefined, 'garbage is not a question');
  assert.equal(parseQuestion(reply), undefined, 'a reply is not a question');
});

test('the HTTP Host header and the TLS server name are read from the first bytes', async () => {
  assert.deepEqual(sniff(Buffer.from('GET / HTTP/1.1\r\nHost: Example.com:8080\r\nAccept: */*\r\n\r\n')), { protocol: 'http', host: 'example.com', incomplete: false });
  assert.equal(sniff(Buffer.from('GET / HTTP/1.1\r\nHost: exa')).incomplete, true);
  assert.deepEqual(sniff(Buffer.from('SSH-2.0-OpenSSH\r\n')), { protocol: 'other', host: undefined, incomplete: false });
  const hello = await new Promise<Buffer>((resolve) => {
    const server = net.createServer((socket) => {
      socket.once('data', (data) => {
        resolve(data);
        socket.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername: 'secure.example.org' });
      client.on('error', () => undefined);
    });
  });
  assert.deepEqual(sniff(hello), { protocol: 'tls', host: 'secure.example.org', incomplete: false });
  assert.equal(sniff(hello.subarray(0, 20)).incomplete, true);
});

test('the original destination comes from the live conntrack entry of the redirected connection', () => {
  const table = [
    'ipv4     2 tcp      6 100 TIME_WAIT src=10.77.0.5 dst=9.9.9.9 sport=40000 dport=80 src=10.77.0.1 dst=10.77.0.5 sport=15001 dport=40000 [ASSURED] mark=0 use=1',
    'ipv4     2 tcp      6 431999 ESTABLISHED src=10.77.0.5 dst=93.184.216.34 sport=40000 dport=443 src=10.77.0.1 dst=10.77.0.5 sport=15001 dport=40000 [ASSURED] mark=0 use=2',
    'ipv4     2 udp      17 20 src=10.77.0.5 dst=10.77.0.1 sport=40000 dport=53 src=10.77.0.1 dst=10.77.0.5 sport=53 dport=40000 mark=0 use=1',
  ].join('\n');
  assert.deepEqual(findOriginalDestination(table, '10.77.0.5', 40000, 15001), { address: '93.184.216.34', port: 443 });
  assert.equal(findOriginalDestination(table, '10.77.0.6', 40000, 15001), undefined);
  assert.equal(findOriginalDestination(table, '10.77.0.5', 40000, 15002), undefined, 'another proxy port is another connection');
});
