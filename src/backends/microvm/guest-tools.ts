// Tool files for a microVM guest: sent over the guest's control port (a second virtio-serial port: the host's
// main connection holds the first) into a tmpfs the guest keeps read-only to every sandbox process.
import { Fields } from '../../supervisor/frame-codec.js';
import { FieldTag, FrameType } from '../../supervisor/protocol.js';
import { SupervisorClient } from '../../supervisor/supervisor-client.js';

export async function sendTools(controlSocket: string, files: Record<string, string>, connectTimeoutMs: number): Promise<void> {
  const client = await SupervisorClient.connect({ socketPath: controlSocket, connectTimeoutMs });
  try {
    const fields = new Fields();
    for (const [name, content] of Object.entries(files)) fields.add(FieldTag.name, name).add(FieldTag.data, Buffer.from(content, 'utf8'));
    await client.request(FrameType.tools, fields);
  } finally {
    client.close();
  }
}
