// Encodes and decodes supervisor frames: length-prefixed, typed, with tag/size/value fields.
import { ProtocolError } from '../errors/hearth-error.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES, type FieldTag, type FrameType } from './protocol.js';

export type FieldValue = string | number | bigint | Buffer | Fields;

/** Fields of one frame body, in order; a tag may repeat. */
export class Fields {
  readonly entries: Array<{ tag: number; value: Buffer }> = [];

  add(tag: FieldTag, value: FieldValue | undefined | null): this {
    if (value === undefined || value === null) return this;
    this.entries.push({ tag, value: encodeValue(value) });
    return this;
  }

  addAll(tag: FieldTag, values: readonly string[]): this {
    for (const value of values) this.add(tag, value);
    return this;
  }

  raw(tag: FieldTag): Buffer | undefined {
    return this.entries.find((entry) => entry.tag === tag)?.value;
  }

  rawAll(tag: FieldTag): Buffer[] {
    return this.entries.filter((entry) => entry.tag === tag).map((entry) => entry.value);
  }

  string(tag: FieldTag): string | undefined {
    return this.raw(tag)?.toString('utf8');
  }

  strings(tag: FieldTag): string[] {
    return this.rawAll(tag).map((value) => value.toString('utf8'));
  }

  int(tag: FieldTag): number | undefined {
    const raw = this.raw(tag);
    if (raw === undefined) return undefined;
    if (raw.length !== 8) throw new ProtocolError(`field ${tag} should be an 8-byte integer, got ${raw.length} bytes`);
    return Number(raw.readBigInt64LE(0));
  }

  nested(tag: FieldTag): Fields | undefined {
    const raw = this.raw(tag);
    return raw === undefined ? undefined : decodeFields(raw);
  }

  nestedAll(tag: FieldTag): Fields[] {
    return this.rawAll(tag).map(decodeFields);
  }

  encode(): Buffer {
    const parts: Buffer[] = [];
    for (const { tag, value } of this.entries) {
      const head = Buffer.allocUnsafe(5);
      head.writeUInt8(tag, 0);
      head.writeUInt32LE(value.length, 1);
      parts.push(head, value);
    }
    return Buffer.concat(parts);
  }
}

function encodeValue(value: FieldValue): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Fields) return value.encode();
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64LE(BigInt(value), 0);
  return out;
}

export function decodeFields(body: Buffer): Fields {
  const fields = new Fields();
  let offset = 0;
  while (offset < body.length) {
    if (offset + 5 > body.length) throw new ProtocolError('truncated field header');
    const tag = body.readUInt8(offset);
    const size = body.readUInt32LE(offset + 1);
    offset += 5;
    if (offset + size > body.length) throw new ProtocolError(`field ${tag} overruns its frame`);
    fields.entries.push({ tag, value: body.subarray(offset, offset + size) });
    offset += size;
  }
  return fields;
}

export interface Frame {
  type: FrameType;
  id: number;
  fields: Fields;
}

export function encodeFrame(type: FrameType, id: number, fields: Fields = new Fields()): Buffer {
  const body = fields.encode();
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  head.writeUInt32LE(body.length + 5, 0);
  head.writeUInt8(type, 4);
  head.writeUInt32LE(id >>> 0, 5);
  return Buffer.concat([head, body]);
}

/** Incremental decoder: feed it socket chunks, it yields whole frames. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32LE(0);
      if (length < 5 || length > MAX_FRAME_BYTES) throw new ProtocolError(`frame length ${length} is out of range`);
      if (this.pending.length < length + 4) break;
      const type = this.pending.readUInt8(4) as FrameType;
      const id = this.pending.readUInt32LE(5);
      const body = this.pending.subarray(FRAME_HEADER_BYTES, length + 4);
      frames.push({ type, id, fields: decodeFields(Buffer.from(body)) });
      this.pending = this.pending.subarray(length + 4);
    }
    return frames;
  }
}
