// Runs one command through a supervisor and resolves with its exit code (128+signal when killed).
import type { Fields } from './frame-codec.js';
import type { SupervisorClient } from './supervisor-client.js';

export function runToExit(client: SupervisorClient, fields: Fields, onOutput?: (data: Buffer) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    client
      .spawn(fields, (event) => {
        if (event.kind === 'output') onOutput?.(event.data);
        else resolve(event.exitCode ?? 128 + (event.signal ?? 9));
      })
      .catch(reject);
  });
}
