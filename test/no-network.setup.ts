import net from 'node:net';
import { afterEach } from 'vitest';

/**
 * Tests may talk to 127.0.0.1 only (PostgreSQL, local fake APIs). Any other
 * connection attempt is refused on the spot and fails the test that made it,
 * so no test can quietly depend on the internet.
 */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '::ffff:127.0.0.1']);
const attempts: string[] = [];

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;
const original = net.Socket.prototype.connect as unknown as Connect;

const targetOf = (args: unknown[]): { host: string | undefined; path: boolean } => {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (typeof first === 'object' && first !== null) {
    const o = first as { host?: string; path?: string };
    return { host: o.host, path: typeof o.path === 'string' };
  }
  if (typeof first === 'number') return { host: typeof args[1] === 'string' ? args[1] : undefined, path: false };
  if (typeof first === 'string') return { host: undefined, path: true };
  return { host: undefined, path: false };
};

(net.Socket.prototype as unknown as { connect: Connect }).connect = function (this: net.Socket, ...args: unknown[]) {
  const { host, path } = targetOf(args);
  if (!path && host !== undefined && !LOOPBACK.has(host.replace(/^\[|\]$/g, ''))) {
    attempts.push(host);
    const error = new Error(`blocked an unexpected outbound connection to ${host} (tests stay on 127.0.0.1)`);
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return original.apply(this, args);
};

afterEach(() => {
  if (attempts.length > 0) {
    const hosts = attempts.splice(0).join(', ');
    throw new Error(`this test tried to reach ${hosts}; tests must not touch the network`);
  }
});
