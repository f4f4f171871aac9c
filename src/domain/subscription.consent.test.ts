import { describe, expect, it } from 'vitest';
import { composeDigest, composeNotification, type NotifiableChange } from './notification.js';
import { composeConsentRequest, consentUrl, describeConsentSubject } from './subscription.consent.js';

const PUBLIC = 'https://lanes.acme.example';
const links = { confirm: consentUrl(PUBLIC, 'tok', 'confirm'), decline: consentUrl(PUBLIC, 'tok', 'decline') };

describe('confirmation requests', () => {
  it('describe what would be followed only with names Lanes knows', () => {
    expect(describeConsentSubject({ kind: 'item', key: 'PAY-231' })).toBe('stage changes of the item PAY-231');
    expect(describeConsentSubject({ kind: 'team', name: null })).toBe('stage changes of a team’s items');
    expect(describeConsentSubject({ kind: 'component', name: 'checkout' })).toBe(
      'stage changes of items of the component checkout',
    );
    expect(
      describeConsentSubject({ kind: 'search', team: 'Payments', component: null, stage: 'live', otherFilters: true }),
    ).toBe('stage changes of items that match a saved search (team Payments, stage Live, other filters)');
  });

  it('have a fixed subject and escape the subscriber’s name in HTML, on one line', () => {
    const m = composeConsentRequest({
      subscriber: { name: '<a href="http://evil.example">Ana</a>\r\nBcc: x@y', email: 'ana@acme.example' },
      address: 'bob@elsewhere.example',
      subject: { kind: 'item', key: 'PAY-231' },
      cadence: 'daily',
      links,
      expiresAt: '2026-06-08T10:00:00.000Z',
    });
    expect(m.subject).toBe('Confirm e-mails from Lanes');
    expect(m.html).not.toContain('<a href="http://evil.example">');
    expect(m.html).toContain('&lt;a href=&quot;http://evil.example&quot;&gt;');
    expect(m.text).not.toContain('\r');
    expect(m.text.split('\n')[0]).toContain('about stage changes of the item PAY-231, once a day.');
    expect(m.text).toContain(`Confirm: ${PUBLIC}/confirm-subscription?token=tok\n`);
    expect(m.text).toContain(`Decline: ${PUBLIC}/confirm-subscription?token=tok&answer=decline`);
    expect(m.html).toContain('confirm-subscription?token=tok&amp;answer=decline');
  });
});

describe('stage-change messages and user-chosen names', () => {
  const change: NotifiableChange = {
    id: 'sc-1',
    itemKey: 'PAY-231',
    fromStage: 'fix_ready',
    toStage: 'live',
    occurredAt: '2026-06-01T10:00:00.000Z',
    evidence: { summary: 'Deployed', source: 'github', url: null },
  };
  const name = '<img src=x onerror=alert(1)> Win a prize';
  const title = '<a href="http://evil.example">Click</a>';
  const messageLinks = { item: (k: string) => `${PUBLIC}/portal/items/${k}`, unsubscribe: `${PUBLIC}/unsubscribe?t=1` };

  it('keep saved-search names and titles out of subjects and escaped in HTML', () => {
    const single = composeNotification({
      change,
      item: { key: 'PAY-231', title },
      target: { kind: 'search', value: name },
      links: messageLinks,
    });
    const digest = composeDigest({
      cadence: 'weekly',
      entries: [{ change, item: { key: 'PAY-231', title } }],
      target: { kind: 'search', value: name },
      links: messageLinks,
    });
    for (const m of [single, digest]) {
      expect(m.subject).not.toContain('prize');
      expect(m.subject).not.toContain('evil');
      expect(m.html).not.toContain('<img');
      expect(m.html).not.toContain('<a href="http://evil.example">');
      expect(m.html).toContain('&lt;img src=x onerror=alert(1)&gt; Win a prize');
    }
  });
});
