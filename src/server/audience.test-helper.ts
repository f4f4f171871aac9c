import type { EventInput } from '../domain/event.js';

/**
 * What the audience tests plant (issue 13): a security-sensitive item whose
 * title, labels, customer and comments carry a marker, and a visible item whose
 * internal discussion and labels carry it too. A stakeholder or anonymous
 * visitor may never read the marker; a member must, so the test cannot pass
 * by planting nothing.
 */
export const AUDIENCE_MARK = /qz7/i;

/** The visible item's title: what a stakeholder does see of it. */
export const VISIBLE_TITLE = 'Quokka export is slow';

/** The planted events, `minutesAgo` before `now`, for the two keys. */
export const audienceEvents = (secretKey: string, visibleKey: string, now: Date): EventInput[] => {
  const at = (minutes: number): string => new Date(now.getTime() - minutes * 60_000).toISOString();
  const secret = { key: secretKey, kind: 'bug' as const, component: 'checkout', severity: 'critical' };
  const visible = { key: visibleKey, kind: 'bug' as const, component: 'checkout', severity: 'high' };
  const engineer = { kind: 'github' as const, id: 'mei-chen' };
  return [
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-1`,
      occurredAt: at(600),
      actor: { kind: 'email' as const, id: 'reporter@customer.example' },
      item: { ...secret, title: 'Quokka token Qz7-title leak', customer: 'Qz7 Customer Corp', state: 'open' },
      change: { kind: 'created' },
    },
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-2`,
      occurredAt: at(590),
      actor: engineer,
      item: { key: secretKey },
      change: { kind: 'label_added', target: 'security' },
    },
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-3`,
      occurredAt: at(580),
      actor: engineer,
      item: { key: secretKey },
      change: { kind: 'label_added', target: 'qz7-label' },
    },
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-4`,
      occurredAt: at(570),
      actor: engineer,
      item: { key: secretKey },
      change: { kind: 'commented', text: 'Repro: send Qz7 comment payload to /refunds' },
    },
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-5`,
      occurredAt: at(560),
      actor: { kind: 'github' as const, id: 'priya-raman' },
      item: { key: secretKey },
      change: { kind: 'field_changed', field: 'priority', from: null, to: 'P1' },
    },
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-6`,
      occurredAt: at(550),
      actor: engineer,
      item: { key: secretKey },
      change: { kind: 'field_changed', field: 'state', from: 'open', to: 'in progress' },
    },
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-7`,
      occurredAt: at(500),
      actor: { kind: 'email' as const, id: 'sales@acme.example' },
      item: { ...visible, title: VISIBLE_TITLE, customer: 'Globex', state: 'open' },
      change: { kind: 'created' },
    },
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-8`,
      occurredAt: at(490),
      actor: engineer,
      item: { key: visibleKey },
      change: { kind: 'commented', text: 'Internal: the Qz7 vendor broke it again' },
    },
    {
      source: 'native',
      sourceEventId: `aud-${secretKey}-9`,
      occurredAt: at(480),
      actor: engineer,
      item: { key: visibleKey },
      change: { kind: 'label_added', target: 'qz7-internal-label' },
    },
  ];
};
