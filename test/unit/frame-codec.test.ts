// Supervisor framing: round trips, incremental decoding, and refusal of malformed frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fields, FrameDecoder, decodeFields, encodeFrame } from '../../src/supervisor/frame-codec.js';
import { FieldTag, FrameType, MAX_FRAME_BYTES } from '../../src/supervisor/protocol.js';
import { ProtocolError } from '../../src/errors/hearth-error.js';

test('a frame round-trips with strings, integers, repeated and nested fields', () => {
  const nested = new Fields().add(FieldTag.pid, 42).add(FieldTag.tag, 'web');
  const fields = new Fields().addAll(FieldTag.arg, ['/bin/bash', '-c', 'echo ü']).add(FieldTag.pid, -1).add(FieldTag.process, nested).add(FieldTag.data, Buffer.from([0, 255]));
  const [frame] = new FrameDecoder().push(encodeFrame(FrameType.spawn, 7, fields));
  assert.ok(frame);
  assert.equal(frame.type, FrameType.spawn);
  assert.equal(frame.id, 7);
  assert.deepEqual(frame.fields.strings(FieldTag.arg), ['/bin/bash', '-c', 'echo ü']);
  assert.equal(frame.fields.int(FieldTag.pid), -1);
  assert.equal(frame.fields.nested(FieldTag.process)?.string(FieldTag.tag), 'web');
  assert.deepEqual([...(frame.fields.raw(FieldTag.data) ?? [])], [0, 255]);
  assert.equal(frame.fields.string(FieldTag.cwd), undefined);
});

test('frames split across chunks at every byte boundary decode the same', () => {
  const bytes = Buffer.concat([
    encodeFrame(FrameType.ok, 1, new Fields().add(FieldTag.pid, 5)),
    encodeFrame(FrameType.output, 5, new Fields().add(FieldTag.data, 'hello')),
  ]);
  for (let cut = 0; cut <= bytes.length; cut += 1) {
    const decoder = new FrameDecoder();
    const frames = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
    assert.equal(frames.length, 2, `cut at ${cut}`);
    assert.equal(frames[1]?.fields.string(FieldTag.data), 'hello');
  }
});

test('oversized or truncated frames are protocol errors', () => {
  const oversized = Buffer.alloc(9);
  oversized.writeUInt32LE(MAX_FRAME_BYTES + 1, 0);
  assert.throws(() => new FrameDecoder().push(oversized), ProtocolError);
  const tooShort = Buffer.alloc(9);
  tooShort.writeUInt32LE(2, 0);
  assert.throws(() => new FrameDecoder().push(tooShort), ProtocolError);
  const overrun = Buffer.from([FieldTag.data, 10, 0, 0, 0, 1, 2]);
  assert.throws(() => decodeFields(overrun), ProtocolError);
  const badInt = new Fields().add(FieldTag.pid, 'abc');
  assert.throws(() => decodeFields(badInt.encode()).int(FieldTag.pid), ProtocolError);
});
