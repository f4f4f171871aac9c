import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  composeDigest,
  composeNotification,
  formatWhen,
  nextDigestAt,
  planRetry,
  portalItemUrl,
  signUnsubscribeToken,
  signWebhook,
  stageHeadline,
  verifyUnsubscribeToken,
  verifyWebhookSignature,
  type NotifiableChange,
} from './notification.js';

const PUBLIC = 'https://lanes.acme.example';
const links = {
  item: (key: string) => portalItemUrl(PUBLIC, key),
  unsubscribe: `${PUBLIC}/unsubscribe?token=abc.def`,
};
const change: NotifiableChange = {
  id: 'sc-1',
  itemKey: 'PAY-231',
  fromStage: 'fix_ready',
  toStage: 'live',
  occurredAt: '2026-06-01T10:05:00.000Z',
  evidence: {
    summary: 'Deployed to production (deploy-8812)',
    source: 'github',
    url: 'https://github.com/acme/pay/deployments/8812',
  },
};

describe('notification messages', () => {
  it('says in plain words what changed, why, where to look, and how to stop', () => {
    const m = composeNotification({
      change,
      item: { key: 'PAY-231', title: 'Checkout fails for EU cards' },
      target: { kind: 'item', value: 'PAY-231' },
      links,
    });
    expect(m.subject).toBe('PAY-231 is now Live');
    expect(m.text).toContain('It moved from Fix ready (awaiting release) to Live on 1 June 2026, 10:05 UTC.');
    expect(m.text).toContain('customers have it');
    expect(m.text).toContain('What changed it: Deployed to production (deploy-8812)');
    expect(m.text).toContain('https://github.com/acme/pay/deployments/8812');
    expect(m.text).toContain(`${PUBLIC}/portal/items/PAY-231`);
    expect(m.text).toContain('because you follow PAY-231');
    expect(m.text).toContain(links.unsubscribe);
    expect(m.html).toContain(`href="${PUBLIC}/unsubscribe?token=abc.def"`);
    expect(m.slack).toContain(`<${PUBLIC}/portal/items/PAY-231|PAY-231 is now Live>`);
    expect(m.payload).toMatchObject({
      type: 'item.stage_changed',
      changeId: 'sc-1',
      from: 'fix_ready',
      to: 'live',
      toLabel: 'Live',
      item: { key: 'PAY-231', title: 'Checkout fails for EU cards', url: `${PUBLIC}/portal/items/PAY-231` },
    });
  });

  it('escapes what came from a source in HTML and Slack, links only http(s), and encodes keys in links', () => {
    const m = composeNotification({
      change: {
        ...change,
        itemKey: 'acme/web#12',
        evidence: { summary: '<b>x</b> & y', source: 'x', url: 'javascript:alert(1)' },
      },
      item: { key: 'acme/web#12', title: '<script>alert(1)</script>' },
      target: { kind: 'search', value: 'EU <cards>' },
      links,
    });
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;script&gt;');
    expect(m.html).toContain('&lt;b&gt;x&lt;/b&gt; &amp; y');
    expect(m.html).not.toContain('javascript:');
    expect(m.slack).not.toContain('<script>');
    expect(m.slack).toContain('&lt;b&gt;x&lt;/b&gt; &amp; y');
    expect(m.text).toContain(`${PUBLIC}/portal/items/acme%2Fweb%2312`);
    expect((m.payload['evidence'] as { url: unknown }).url).toBeNull();
  });

  it('leaves the title out when the charter hides it', () => {
    const m = composeNotification({
      change,
      item: { key: 'PAY-231', title: null },
      target: { kind: 'team', value: 'payments' },
      links,
    });
    expect(m.text).not.toContain('“');
    expect(m.text).toContain('because you follow the team payments');
  });

  it('words the closing stages and reopening naturally', () => {
    expect(stageHeadline('A-1', 'being_fixed', 'wont_fix')).toBe("A-1 won't be fixed");
    expect(stageHeadline('A-1', 'reported', 'duplicate')).toBe('A-1 was closed as a duplicate');
    expect(stageHeadline('A-1', 'live', 'reported')).toBe('A-1 was reopened');
    expect(stageHeadline('A-1', null, 'reported')).toBe('A-1 was reported');
    expect(formatWhen('2026-01-09T07:03:00.000Z')).toBe('9 January 2026, 07:03 UTC');
  });

  it('composes a digest of several changes, oldest first, with one unsubscribe link', () => {
    const m = composeDigest({
      cadence: 'daily',
      entries: [
        {
          change: { ...change, id: 'b', occurredAt: '2026-06-01T12:00:00.000Z' },
          item: { key: 'PAY-231', title: 'T' },
        },
        {
          change: {
            ...change,
            id: 'a',
            itemKey: 'PAY-7',
            fromStage: 'scheduled',
            toStage: 'being_fixed',
            occurredAt: '2026-06-01T09:00:00.000Z',
          },
          item: { key: 'PAY-7', title: null },
        },
      ],
      target: { kind: 'component', value: 'checkout' },
      links,
    });
    expect(m.subject).toBe('Daily digest: 2 stage changes on 2 items');
    expect(m.text.indexOf('PAY-7 is now Being fixed')).toBeLessThan(m.text.indexOf('PAY-231 is now Live'));
    expect(m.text.split(links.unsubscribe)).toHaveLength(2);
    expect(m.payload).toMatchObject({ type: 'digest', cadence: 'daily' });
    expect((m.payload['changes'] as unknown[]).length).toBe(2);
  });
});

describe('webhook signatures', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256 and verifies within the tolerance only', () => {
    const body = '{"a":1}';
    const sig = signWebhook('whsec_test', 1_780_000_000, body);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    const ok = { secret: 'whsec_test', signature: sig, timestamp: '1780000000', body, nowSeconds: 1_780_000_100 };
    expect(verifyWebhookSignature(ok)).toBe(true);
    expect(verifyWebhookSignature({ ...ok, body: '{"a":2}' })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, secret: 'other' })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, timestamp: '1780000001' })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, nowSeconds: 1_780_000_000 + 301 })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, signature: undefined })).toBe(false);
  });
});

describe('retries', () => {
  it('backs off exponentially with jitter up to the cap, and gives up after the last attempt', () => {
    const policy = { baseMs: 1000, capMs: 10_000, maxAttempts: 6 };
    expect(planRetry(1, 0, policy)).toEqual({ dead: false, delayMs: 500 });
    expect(planRetry(1, 0.999999, policy)).toEqual({ dead: false, delayMs: 1000 });
    expect(planRetry(3, 0.999999, policy)).toEqual({ dead: false, delayMs: 4000 });
    expect(planRetry(5, 0.999999, policy)).toEqual({ dead: false, delayMs: 10_000 });
    expect(planRetry(6, 0.5, policy)).toEqual({ dead: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempts, r) => {
          const plan = planRetry(attempts, r, policy);
          const full = Math.min(10_000, 1000 * 2 ** (attempts - 1));
          return !plan.dead && plan.delayMs >= full / 2 && plan.delayMs <= full;
        },
      ),
    );
  });
});

describe('digest times', () => {
  it('finds the next daily and weekly (Monday) slot strictly after the instant', () => {
    expect(nextDigestAt('daily', new Date('2026-06-01T08:59:59Z')).toISOString()).toBe('2026-06-01T09:00:00.000Z');
    expect(nextDigestAt('daily', new Date('2026-06-01T09:00:00Z')).toISOString()).toBe('2026-06-02T09:00:00.000Z');
    // 2026-06-03 is a Wednesday.
    expect(nextDigestAt('weekly', new Date('2026-06-03T12:00:00Z')).toISOString()).toBe('2026-06-08T09:00:00.000Z');
    expect(nextDigestAt('weekly', new Date('2026-06-08T08:00:00Z')).toISOString()).toBe('2026-06-08T09:00:00.000Z');
    expect(nextDigestAt('daily', new Date('2026-12-31T23:00:00Z'), 7).toISOString()).toBe('2027-01-01T07:00:00.000Z');
  });
});

describe('unsubscribe tokens', () => {
  it('round-trips any id and refuses forged, altered or foreign tokens', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (id) => {
        const token = signUnsubscribeToken(id, 'key-1');
        return verifyUnsubscribeToken(token, 'key-1') === id && verifyUnsubscribeToken(token, 'key-2') === null;
      }),
    );
    const token = signUnsubscribeToken('sub-1', 'key-1');
    const [id, mac] = token.split('.') as [string, string];
    expect(verifyUnsubscribeToken(`${Buffer.from('sub-2').toString('base64url')}.${mac}`, 'key-1')).toBeNull();
    expect(verifyUnsubscribeToken(`${id}.${mac.slice(0, -1)}A`, 'key-1')).toBe(mac.endsWith('A') ? 'sub-1' : null);
    expect(verifyUnsubscribeToken('garbage', 'key-1')).toBeNull();
    expect(verifyUnsubscribeToken('.abc', 'key-1')).toBeNull();
  });
});
