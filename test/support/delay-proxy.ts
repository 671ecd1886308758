import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy that holds every chunk `oneWayMs` in each direction (a round trip of twice that),
 * in order: timers of one duration fire in the order they were set. Accepting the client's connection is
 * not delayed (the TCP handshake is free); TLS and HTTP/2 pay the round trips. No bandwidth limit, no
 * back-pressure: for small test pages only.
 */
export async function startDelayProxy(targetPort: number, oneWayMs: number): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const relay = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), oneWayMs));
    from.on('end', () => setTimeout(() => to.destroyed || to.end(), oneWayMs));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), oneWayMs + 1));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    track(client);
    track(upstream);
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
