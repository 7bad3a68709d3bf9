// Just enough of the DNS wire format (RFC 1035) to read a question, build a reply and read A records from one.

export const DnsType = { A: 1, CNAME: 5, AAAA: 28 } as const;
export const DnsRcode = { noError: 0, serverFailure: 2, nameError: 3, refused: 5 } as const;

export interface DnsQuestion {
  id: number;
  /** Recursion desired, echoed in the reply. */
  flags: number;
  name: string;
  type: number;
  /** The question section's bytes, copied into replies. */
  questionBytes: Buffer;
}

/** Reads a (possibly compressed) name at `offset`; returns it and the offset just past it in the message. */
function readName(message: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let offset = start;
  let next = -1;
  for (let jumps = 0; jumps < 64; jumps++) {
    const length = message.readUInt8(offset);
    if (length === 0) return { name: labels.join('.').toLowerCase(), next: next >= 0 ? next : offset + 1 };
    if ((length & 0xc0) === 0xc0) {
      if (next < 0) next = offset + 2;
      offset = message.readUInt16BE(offset) & 0x3fff;
      continue;
    }
    if (offset + 1 + length > message.length) throw new RangeError('label runs past the message');
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('latin1'));
    offset += 1 + length;
  }
  throw new RangeError('too many compression pointers');
}

export function parseQuestion(message: Buffer): DnsQuestion | undefined {
  try {
    if (message.length < 12 || message.readUInt16BE(4) !== 1 || (message.readUInt8(2) & 0x80) !== 0) return undefined;
    const { name, next } = readName(message, 12);
    const type = message.readUInt16BE(next);
    return { id: message.readUInt16BE(0), flags: message.readUInt16BE(2), name, type, questionBytes: message.subarray(12, next + 4) };
  } catch {
    return undefined;
  }
}

/** A reply to `question` with the given rcode and A records (`addresses`, for the question's own name). */
export function buildReply(question: DnsQuestion, rcode: number, addresses: readonly string[] = [], ttlSeconds = 60): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(question.id, 0);
  // QR, opcode 0, RD copied, RA set
  header.writeUInt16BE(0x8000 | (question.flags & 0x0100) | 0x0080 | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const answers = addresses.map((address) => {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    record.writeUInt16BE(DnsType.A, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(ttlSeconds, 6);
    record.writeUInt16BE(4, 10);
    address.split('.').forEach((part, index) => record.writeUInt8(Number(part), 12 + index));
    return record;
  });
  return Buffer.concat([header, question.questionBytes, ...answers]);
}

export interface AnswerSummary {
  rcode: number;
  /** IPv4 addresses of every A record in the answer section (the whole CNAME chain's end). */
  addresses: string[];
  minTtlSeconds: number;
}

export function readAnswers(message: Buffer): AnswerSummary | undefined {
  try {
    const rcode = message.readUInt8(3) & 0xf;
    const questions = message.readUInt16BE(4);
    const answers = message.readUInt16BE(6);
    let offset = 12;
    for (let i = 0; i < questions; i++) offset = readName(message, offset).next + 4;
    const addresses: string[] = [];
    let minTtlSeconds = Number.MAX_SAFE_INTEGER;
    for (let i = 0; i < answers; i++) {
      offset = readName(message, offset).next;
      const type = message.readUInt16BE(offset);
      const ttl = message.readUInt32BE(offset + 4);
      const length = message.readUInt16BE(offset + 8);
      offset += 10;
      if (type === DnsType.A && length === 4) {
        addresses.push([...message.subarray(offset, offset + 4)].join('.'));
        minTtlSeconds = Math.min(minTtlSeconds, ttl);
      }
      offset += length;
    }
    return { rcode, addresses, minTtlSeconds: addresses.length > 0 ? minTtlSeconds : 0 };
  } catch {
    return undefined;
  }
}

/** A standard recursive query for `name` (used by the egress proxy to check an SNI against DNS). */
export function buildQuery(id: number, name: string, type: number): Buffer {
  const labels = name.split('.').filter(Boolean).map((label) => {
    const bytes = Buffer.from(label, 'latin1');
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  });
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([header, ...labels, tail]);
}
