import type { LookupAddress } from 'node:dns';
import { createServer } from 'node:net';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeAnswer, type FakeApi } from '../../test/support/fake-api.js';
import { loadConfig } from '../config.js';
import { DeliveryFailure, verifyWebhookSignature, type NotificationMessage } from '../domain/notification.js';
import type { OutgoingNotification } from './notify/notify.types.js';
import { webhookSender } from './notify/webhook.sender.js';
import { parseOutboundAllow } from './outbound.address.js';
import { createOutboundGuard, OutboundError, type OutboundGuard } from './outbound.guard.js';

const SECRET = 'whsec_test';
const message: NotificationMessage = {
  subject: 'PAY-1 is now Live',
  text: 'PAY-1 is now Live',
  html: '<p>PAY-1 is now Live</p>',
  slack: 'PAY-1 is now Live',
  payload: { type: 'item.stage_changed', item: { key: 'PAY-1' } },
};
const notification = (address: string): OutgoingNotification => ({
  key: 'delivery-1',
  address,
  secret: SECRET,
  message,
  unsubscribeUrl: 'https://lanes.acme.example/unsubscribe?token=x',
});

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

const receiver = async (answer: () => FakeAnswer = () => ({ status: 204 })): Promise<FakeApi> => {
  const api = await startFakeApi(answer);
  open.push(api);
  return api;
};
const guardOf = (allow?: string, resolve?: (host: string) => Promise<LookupAddress[]>): OutboundGuard => {
  const guard = createOutboundGuard({ allow: allow === undefined ? undefined : parseOutboundAllow(allow), resolve });
  open.push(guard);
  return guard;
};
const portOf = (url: string) => new URL(url).port;

/** What a send fails with (or undefined when it was delivered). */
const sendTo = async (address: string, guard: OutboundGuard, timeoutMs = 2000) => {
  try {
    await webhookSender({ guard, timeoutMs })(notification(address));
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(DeliveryFailure);
    return error as DeliveryFailure;
  }
};

describe('the outbound guard over real HTTP', () => {
  it('refuses a receiver on 127.0.0.1 without the allow setting and reaches it with LANES_OUTBOUND_ALLOW', async () => {
    const hook = await receiver();
    const port = portOf(hook.url);
    for (const address of [
      `${hook.url}/in`,
      `http://2130706433:${port}/in`,
      `http://0177.0.0.1:${port}/in`,
      `http://0x7f.1:${port}/in`,
      `http://[::ffff:127.0.0.1]:${port}/in`,
    ]) {
      const failure = await sendTo(address, guardOf());
      expect(failure, address).toMatchObject({ permanent: true });
      expect(failure!.message).toContain('127.0.0.1 is a loopback address');
    }
    expect(hook.requests).toHaveLength(0);

    const { outboundAllow } = loadConfig({ LANES_OUTBOUND_ALLOW: '127.0.0.0/8' }, '/tmp');
    const allowed = createOutboundGuard({ allow: outboundAllow });
    open.push(allowed);
    expect(await sendTo(`${hook.url}/in`, allowed)).toBeUndefined();
    expect(await sendTo(`http://2130706433:${port}/in`, allowed)).toBeUndefined();
    expect(hook.requests).toHaveLength(2);
    const request = hook.requests[0]!;
    expect(request).toMatchObject({ method: 'POST', path: '/in' });
    expect(
      verifyWebhookSignature({
        secret: SECRET,
        signature: request.headers['x-lanes-signature'] as string,
        timestamp: request.headers['x-lanes-timestamp'] as string,
        body: request.body,
        nowSeconds: Math.floor(Date.now() / 1000),
      }),
    ).toBe(true);
  });

  it('refuses a host name that resolves to 127.0.0.1 when it connects (localhost through the system resolver)', async () => {
    const hook = await receiver();
    const guard = guardOf();
    // Not judged by name here: the address the name resolves to at connect time is what is refused.
    const failure = await sendTo(`http://localhost:${portOf(hook.url)}/in`, guard);
    expect(failure).toMatchObject({ permanent: true });
    expect(failure!.message).toMatch(/localhost resolves only to addresses Lanes may not call \(.*loopback/);
    expect(hook.requests).toHaveLength(0);
    // Allowed by name, the same URL is delivered.
    expect(await sendTo(`http://localhost:${portOf(hook.url)}/in`, guardOf('localhost'))).toBeUndefined();
    expect(hook.requests).toHaveLength(1);
  });

  it('judges the address it connects to, not an earlier answer (DNS rebinding)', async () => {
    const hook = await receiver();
    const answers: LookupAddress[][] = [
      [{ address: '93.184.216.34', family: 4 }],
      [{ address: '127.0.0.1', family: 4 }],
    ];
    let calls = 0;
    const guard = guardOf(undefined, async () => answers[Math.min(calls++, answers.length - 1)]!);
    // A check made before sending sees a public address ...
    const checked = await new Promise<unknown>((resolve, reject) =>
      guard.lookup('localhost', { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
    );
    expect(checked).toEqual([{ address: '93.184.216.34', family: 4 }]);
    // ... but the name points at loopback when the socket connects, and that is what is judged.
    const failure = await sendTo(`http://localhost:${portOf(hook.url)}/in`, guard);
    expect(failure!.message).toContain('127.0.0.1 is a loopback address');
    expect(calls).toBe(2);
    expect(hook.requests).toHaveLength(0);
  });

  it('connects only to the allowed addresses of a name that resolves to several', async () => {
    const guard = guardOf(undefined, async () => [
      { address: '10.0.0.7', family: 4 },
      { address: '8.8.8.8', family: 4 },
      { address: 'fd00::7', family: 6 },
    ]);
    const all = await new Promise<unknown>((resolve) =>
      guard.lookup('mixed.example', { all: true }, (_error, addresses) => resolve(addresses)),
    );
    expect(all).toEqual([{ address: '8.8.8.8', family: 4 }]);
    const v6 = await new Promise<unknown>((resolve) => guard.lookup('mixed.example', { family: 6 }, (e) => resolve(e)));
    expect(v6).toBeInstanceOf(OutboundError);
  });

  it('does not follow a redirect: a 3xx is a failed delivery that says so', async () => {
    const final = await receiver();
    const hook = await receiver(() => ({ status: 302, headers: { location: `${final.url}/final` } }));
    const failure = await sendTo(`${hook.url}/in`, guardOf('127.0.0.1'));
    expect(failure).toMatchObject({ permanent: true });
    expect(failure!.message).toBe(
      `webhook answered HTTP 302, a redirect to ${final.url}/final; redirects are not followed, so subscribe with the final URL`,
    );
    expect(hook.requests).toHaveLength(1);
    expect(final.requests).toHaveLength(0);
  });

  it('tells admins what went wrong: a closed port, an HTTP 500 and a timeout', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const failing = await receiver(() => ({ status: 500 }));
    const hanging = await receiver(() => ({ hang: true }));
    const guard = guardOf('127.0.0.1');
    const closed = await sendTo(`http://127.0.0.1:${closedPort}/in`, guard);
    expect(closed).toMatchObject({ permanent: false });
    expect(closed!.message).toContain('ECONNREFUSED');
    expect(await sendTo(`${failing.url}/in`, guard)).toMatchObject({
      permanent: false,
      message: 'webhook answered HTTP 500',
    });
    const started = Date.now();
    expect(await sendTo(`${hanging.url}/in`, guard, 300)).toMatchObject({
      permanent: false,
      message: 'webhook failed: timed out after 300 ms',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses other schemes and literal addresses before opening any connection', async () => {
    const guard = guardOf();
    const refused = async (url: string) => {
      const error = await guard.request(url, { timeoutMs: 1000 }).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(OutboundError);
      return (error as OutboundError).reason;
    };
    expect(await refused('http://169.254.169.254/latest/meta-data/')).toBe('forbidden');
    expect(await refused('http://[::1]:1/')).toBe('forbidden');
    expect(await refused('http://[fd00::1]/')).toBe('forbidden');
    expect(await refused('file:///etc/passwd')).toBe('invalid');
    expect(await refused('http://user:pw@example.com/')).toBe('invalid');
  });

  it('gives its lookup to other clients too: a plain http.request through it is refused at connect', async () => {
    const hook = await receiver();
    const guard = guardOf();
    const error = await new Promise<unknown>((resolve) => {
      const req = http.request(`http://localhost:${portOf(hook.url)}/`, { lookup: guard.lookup }, () =>
        resolve('connected'),
      );
      req.on('error', resolve);
      req.end();
    });
    expect(error).toBeInstanceOf(OutboundError);
    expect(hook.requests).toHaveLength(0);
  });
});
