import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/**
 * The client's address as Express computes `req.ip` with `trust proxy` set to `loopback` (see
 * app.factory.ts), for requests Express does not see (the Socket.IO handshake): X-Forwarded-For
 * is read from the right only while the hop that added it is on loopback, so a remote client
 * cannot choose its address, and clients behind a local reverse proxy are not all one address.
 */
export function clientAddress(req: IncomingMessage): string {
  const remote = req.socket.remoteAddress ?? 'unknown';
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .reverse();
  let address = remote;
  for (const hop of forwarded) {
    if (!isLoopback(address)) break;
    address = hop;
  }
  return address;
}
