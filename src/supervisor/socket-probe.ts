// Whether something accepts connections on a Unix socket right now (the probe connection is closed at once).
import net from 'node:net';

export function acceptsConnections(socketPath: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
