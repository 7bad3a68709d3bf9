// A Python process whose state lives only in its memory (a random secret, a request counter, its pid), served on
// 127.0.0.1:8000: what pause/resume, fork and snapshot tests check survives.
import type { Sandbox } from 'e2b';

export const MEMORY_SERVER = `python3 -c '
import http.server, os
secret = os.urandom(8).hex()
count = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        count[0] += 1
        body = ("%s %d %d" % (secret, count[0], os.getpid())).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 8000), H).serve_forever()
'`;

export interface MemoryState {
  secret: string;
  count: number;
  pid: number;
}

/** Asks the server (waiting for it to listen, with backoff) for its state; `commandTimeoutMs` for slow guests (TCG). */
export async function readMemory(sbx: Sandbox, options: { commandTimeoutMs?: number } = {}): Promise<MemoryState> {
  const command = 'curl -s --retry 30 --retry-connrefused --retry-delay 0 --retry-max-time 120 http://127.0.0.1:8000/';
  const out = (await sbx.commands.run(command, options.commandTimeoutMs ? { timeoutMs: options.commandTimeoutMs } : {})).stdout.trim();
  const [secret = '', count = '0', pid = '0'] = out.split(' ');
  return { secret, count: Number(count), pid: Number(pid) };
}
