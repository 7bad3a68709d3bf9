// Tells a booted or restored guest who it is: hostname, base environment, fresh entropy (clones of one
// snapshot must never share randomness) and the wall clock (a restored guest wakes at its snapshot's time).
import { randomBytes } from 'node:crypto';
import { Fields } from '../../supervisor/frame-codec.js';
import { FieldTag, FrameType } from '../../supervisor/protocol.js';
import { SupervisorClient } from '../../supervisor/supervisor-client.js';

const ENTROPY_BYTES = 64;

export async function identifyGuest(channelSocket: string, hostname: string, baseEnv: Record<string, string>, connectTimeoutMs: number): Promise<void> {
  const client = await SupervisorClient.connect({ socketPath: channelSocket, connectTimeoutMs });
  try {
    const fields = new Fields()
      .add(FieldTag.name, hostname)
      .addAll(FieldTag.env, Object.entries(baseEnv).map(([key, value]) => `${key}=${value}`))
      .add(FieldTag.data, randomBytes(ENTROPY_BYTES))
      .add(FieldTag.mtimeNs, BigInt(Date.now()) * 1_000_000n);
    await client.request(FrameType.identify, fields);
  } finally {
    client.close();
  }
}
