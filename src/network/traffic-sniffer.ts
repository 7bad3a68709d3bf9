// Reads which host a connection is for from its first bytes: the TLS ClientHello's server name or the HTTP Host header.

export type SniffedProtocol = 'tls' | 'http' | 'other';

export interface SniffResult {
  protocol: SniffedProtocol;
  /** Lower-case host name without port, when the protocol names one. */
  host: string | undefined;
  /** More bytes are needed to decide. */
  incomplete: boolean;
}

const HTTP_METHODS = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE) /;
const MAX_HEADER_BYTES = 16 * 1024;

export function sniff(data: Buffer): SniffResult {
  if (data.length === 0) return { protocol: 'other', host: undefined, incomplete: true };
  if (data[0] === 0x16) return sniffTls(data);
  const head = data.subarray(0, Math.min(data.length, MAX_HEADER_BYTES)).toString('latin1');
  if (HTTP_METHODS.test(head) || (data.length < 8 && 'GET HEAD POST PUT DELETE OPTIONS PATCH'.includes(head.split(' ')[0] ?? '#'))) {
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return { protocol: 'http', host: undefined, incomplete: data.length < MAX_HEADER_BYTES };
    const hostLine = head
      .slice(0, end)
      .split('\r\n')
      .find((line) => /^host:/i.test(line));
    return { protocol: 'http', host: hostLine ? stripPort(hostLine.slice(5).trim()) : undefined, incomplete: false };
  }
  return { protocol: 'other', host: undefined, incomplete: false };
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']')).toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}

/** Parses a ClientHello record far enough to find the server_name extension. */
function sniffTls(data: Buffer): SniffResult {
  const incomplete = { protocol: 'tls' as const, host: undefined, incomplete: true };
  if (data.length < 5) return incomplete;
  const recordLength = data.readUInt16BE(3);
  if (data.length < 5 + recordLength) return recordLength > MAX_HEADER_BYTES ? { protocol: 'tls', host: undefined, incomplete: false } : incomplete;
  const hello = data.subarray(5, 5 + recordLength);
  try {
    if (hello[0] !== 0x01) return { protocol: 'tls', host: undefined, incomplete: false };
    let offset = 4 + 2 + 32; // handshake header, version, random
    offset += 1 + hello.readUInt8(offset); // session id
    offset += 2 + hello.readUInt16BE(offset); // cipher suites
    offset += 1 + hello.readUInt8(offset); // compression methods
    const extensionsEnd = offset + 2 + hello.readUInt16BE(offset);
    offset += 2;
    while (offset + 4 <= extensionsEnd) {
      const type = hello.readUInt16BE(offset);
      const length = hello.readUInt16BE(offset + 2);
      offset += 4;
      if (type === 0) {
        // server_name_list: list length, then entries of (type, length, name)
        let entry = offset + 2;
        while (entry + 3 <= offset + length) {
          const nameType = hello.readUInt8(entry);
          const nameLength = hello.readUInt16BE(entry + 1);
          if (nameType === 0) return { protocol: 'tls', host: hello.subarray(entry + 3, entry + 3 + nameLength).toString('ascii').toLowerCase(), incomplete: false };
          entry += 3 + nameLength;
        }
      }
      offset += length;
    }
  } catch {
    // a malformed hello names no host
  }
  return { protocol: 'tls', host: undefined, incomplete: false };
}
