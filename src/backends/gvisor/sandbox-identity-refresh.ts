// A sandbox restored from another sandbox's checkpoint (a fork, a snapshot-started template) wakes up with the
// source's hostname and base environment; IDENTIFY gives it its own before anyone else connects.
import { Fields } from '../../supervisor/frame-codec.js';
import { FieldTag, FrameType } from '../../supervisor/protocol.js';
import { SupervisorClient } from '../../supervisor/supervisor-client.js';

export async function refreshIdentity(socketPath: string, hostname: string, baseEnv: Record<string, string>, connectTimeoutMs: number): Promise<void> {
  const client = await SupervisorClient.connect({ socketPath, connectTimeoutMs });
  try {
    const fields = new Fields().add(FieldTag.name, hostname).addAll(FieldTag.env, Object.entries(baseEnv).map(([key, value]) => `${key}=${value}`));
    await client.request(FrameType.identify, fields);
  } finally {
    client.close();
  }
}
