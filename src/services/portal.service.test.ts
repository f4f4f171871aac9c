import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Principal } from '../domain/access.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import type { Charter } from '../domain/charter.schema.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { EventInput } from '../domain/event.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { appendEvents, rebuildProjection } from './events.service.js';
import { ensurePortalIndex } from './portal.index.js';
import {
  createShareLink,
  flushPortalLookups,
  listItemShareLinks,
  portalItem,
  recordPortalLookup,
  revokeItemShareLink,
  searchPortal,
  sharedItem,
} from './portal.service.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const charter = buildDemoCharter(42, NOW);
const person = (id: string) => charter.people.find((p) => p.id === id)!;
const lead = charter.teams.find((t) => t.id === 'payments')!.trio.tech;

const stakeholder: Principal = {
  user: { id: 'u-sam', email: 'sam@acme.example', name: 'Sam', role: 'stakeholder', createdAt: NOW.toISOString() },
  via: 'session',
};
const query = (q: Partial<Parameters<typeof searchPortal>[2]> = {}) => ({ limit: 20, ...q });

let seq = 0;
const ev = (
  key: string | null,
  at: string,
  change: EventInput['change'],
  over: Partial<EventInput> = {},
): EventInput => ({
  source: 'jira',
  sourceEventId: `ev-${++seq}`,
  occurredAt: at,
  actor: { kind: 'jira', id: person(lead).jira! },
  ...(key ? { item: { key } } : {}),
  change,
  ...over,
});

const bug = (key: string, title: string, extra: Partial<NonNullable<EventInput['item']>> = {}): EventInput =>
  ev(
    key,
    '2026-05-20T09:00:00Z',
    { kind: 'created' },
    {
      item: { key, kind: 'bug', title, team: 'payments', component: 'checkout', severity: 'high', ...extra },
    },
  );

describe.each(testEngines())('status portal on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let loaded: LoadedCharter;
  let n = 0;
  beforeEach(async () => {
    database = await open();
    loaded = { charter, index: buildCharterIndex(charter), path: 'lanes.yaml', loadedAt: NOW.toISOString() };
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${String(++n).padStart(6, '0')}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  it('finds visible items by key, words, customer and a pasted link; never a security-sensitive one', async () => {
    await appendEvents(ctx, [
      bug('PAY-1', 'Refund fails for Émilie’s EU cards', {
        customer: 'Globex',
        url: 'https://acme.atlassian.net/browse/PAY-1',
      }),
      bug('PAY-2', 'Checkout total rounds wrong'),
      bug('PAY-3', 'Refund leaks card numbers'),
      ev('PAY-3', '2026-05-20T09:05:00Z', { kind: 'label_added', target: 'Security' }),
      ev(
        'PAY-4',
        '2026-05-20T09:00:00Z',
        { kind: 'created' },
        { item: { key: 'PAY-4', kind: 'task', title: 'Refund tooling' } },
      ),
    ]);
    const keys = async (q: Parameters<typeof searchPortal>[2]) =>
      (await searchPortal(ctx, stakeholder, q)).items.map((i) => i.key);
    expect(await keys(query({ q: 'refund' }))).toEqual(['PAY-1']); // PAY-3 sensitive, PAY-4 a task (not visible)
    expect(await keys(query({ q: 'emilie eu' }))).toEqual(['PAY-1']); // diacritics and prefixes
    expect(await keys(query({ q: 'refu car' }))).toEqual(['PAY-1']);
    expect(await keys(query({ customer: 'globex' }))).toEqual(['PAY-1']);
    // A reporter typed as an e-mail address finds what the log holds under their charter id.
    expect(person(lead).email).toBeDefined();
    expect((await keys(query({ reporter: person(lead).email!.toUpperCase() }))).sort()).toEqual(['PAY-1', 'PAY-2']);
    expect((await searchPortal(ctx, stakeholder, query({ q: 'pay-2' }))).exact).toBe('PAY-2');
    expect((await searchPortal(ctx, stakeholder, query({ q: 'https://acme.atlassian.net/browse/PAY-1' }))).exact).toBe(
      'PAY-1',
    );
    // The sensitive item is not found by any route: its key, its words, its page, a share link.
    expect(await keys(query({ q: 'PAY-3' }))).toEqual([]);
    expect(await keys(query({ q: 'leaks' }))).toEqual([]);
    await expect(portalItem(ctx, stakeholder, 'PAY-3')).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
    await expect(createShareLink(ctx, stakeholder, 'PAY-3', 'https://lanes.example')).rejects.toMatchObject({
      code: 'LANES_NOT_FOUND',
    });
    // SQL and FTS syntax in a query are words, nothing more.
    expect(await keys(query({ q: `refund" OR 1=1; DROP TABLE item; --` }))).toEqual([]);
    expect(await keys(query({ q: 'refund* card^' }))).toEqual(['PAY-1']);
  });

  it('pages through results newest first with a cursor', async () => {
    await appendEvents(
      ctx,
      Array.from({ length: 25 }, (_, i) =>
        ev(
          `PAY-${100 + i}`,
          `2026-05-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
          { kind: 'created' },
          {
            item: { key: `PAY-${100 + i}`, kind: 'bug', title: `Payout delay ${i}`, team: 'payments' },
          },
        ),
      ),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await searchPortal(
        ctx,
        stakeholder,
        query({ q: 'payout', limit: 10, ...(cursor ? { cursor } : {}) }),
      );
      seen.push(...page.items.map((i) => i.key));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  it('is Live only once a successful production deployment carries the merge commit, whichever arrives first', async () => {
    const sha = 'a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0';
    await appendEvents(ctx, [
      bug('PAY-10', 'Card declined on retry'),
      ev('PAY-10', '2026-05-20T10:00:00Z', { kind: 'field_changed', field: 'state', to: 'in progress' }),
      ev('PAY-10', '2026-05-20T11:00:00Z', { kind: 'pr_opened', data: { pr: 412 } }, { source: 'github' }),
      ev(
        'PAY-10',
        '2026-05-20T12:00:00Z',
        { kind: 'pr_merged', data: { pr: 412, mergeCommitSha: sha } },
        { source: 'github' },
      ),
    ]);
    expect((await portalItem(ctx, stakeholder, 'PAY-10')).stage).toBe('fix_ready');
    // Staging, and a failed production deployment, do not make it live.
    await appendEvents(ctx, [
      ev(
        null,
        '2026-05-20T13:00:00Z',
        { kind: 'deployed', data: { environment: 'staging', sha, state: 'success' } },
        { source: 'github' },
      ),
      ev(
        null,
        '2026-05-20T14:00:00Z',
        { kind: 'deployed', data: { environment: 'production', sha, state: 'failure' } },
        { source: 'github' },
      ),
    ]);
    expect((await portalItem(ctx, stakeholder, 'PAY-10')).stage).toBe('fix_ready');
    await appendEvents(ctx, [
      ev(
        null,
        '2026-05-20T15:00:00Z',
        {
          kind: 'deployed',
          data: { environment: 'production', sha, state: 'success', deploymentId: 'dep-77' },
        },
        { source: 'github' },
      ),
    ]);
    const item = await portalItem(ctx, stakeholder, 'PAY-10');
    expect(item.stage).toBe('live');
    expect(item.status).toMatch(/^Live for customers since/);
    expect(item.history.map((h) => h.to)).toEqual(['reported', 'being_fixed', 'fix_in_review', 'fix_ready', 'live']);
    expect(item.history.at(-1)!.evidence.summary).toBe(
      'Deployed to production (dep-77) (the deployment carried the fix commit)',
    );
    expect(item.history.at(-1)!.at).toBe('2026-05-20T15:00:00.000Z');

    // The other order: the deployment is delivered before the merge that it carried.
    const other = 'ffeeddccbbaa99887766554433221100ffeeddcc';
    await appendEvents(ctx, [
      bug('PAY-11', 'Wrong currency symbol'),
      ev(
        null,
        '2026-05-21T15:00:00Z',
        { kind: 'deployed', data: { environment: 'prod', commits: [other] } },
        { source: 'deploys' },
      ),
    ]);
    expect((await portalItem(ctx, stakeholder, 'PAY-11')).stage).toBe('reported');
    const merged = await appendEvents(ctx, [
      ev(
        'PAY-11',
        '2026-05-21T12:00:00Z',
        { kind: 'pr_merged', data: { pr: 9, mergeCommitSha: other } },
        { source: 'github' },
      ),
    ]);
    expect(merged.stored).toBe(1);
    expect((await portalItem(ctx, stakeholder, 'PAY-11')).stage).toBe('live');
    // Delivered again, nothing is stored or derived twice.
    const again = await appendEvents(ctx, [
      ev(
        null,
        '2026-05-21T15:00:00Z',
        { kind: 'deployed', data: { environment: 'prod', commits: [other] } },
        {
          source: 'deploys',
          sourceEventId: `ev-${seq}`.replace(/\d+$/, (d) => String(Number(d) - 1)),
        },
      ),
    ]);
    expect(again.stored).toBe(0);
    const derived = await database.db.selectFrom('event').select('id').where('source', '=', 'lanes').execute();
    expect(derived).toHaveLength(2);
  });

  it('says what happens next and when the next update is due, per the charter', async () => {
    await appendEvents(ctx, [
      bug('PAY-20', 'Payout stuck', { severity: 'high' }),
      ev('PAY-20', '2026-06-01T08:00:00Z', { kind: 'field_changed', field: 'state', to: 'in progress' }),
    ]);
    const item = await portalItem(ctx, stakeholder, 'PAY-20');
    expect(item).toMatchObject({
      stage: 'being_fixed',
      status: 'An engineer is working on a fix.',
      next: 'The change goes to review.',
      responseTarget: 'an update every 8 hours for high severity',
      nextUpdateDue: '2026-06-01T16:00:00.000Z',
      severity: 'high',
    });
    // No internal chatter: nothing in the page is a comment or a person.
    await appendEvents(ctx, [
      ev('PAY-20', '2026-06-01T09:00:00Z', { kind: 'commented', text: 'secret internal note' }),
    ]);
    expect(JSON.stringify(await portalItem(ctx, stakeholder, 'PAY-20'))).not.toMatch(/secret internal|daniel|okafor/i);
  });

  it('hides fields the charter keeps from stakeholders', async () => {
    loaded = {
      ...loaded,
      charter: {
        ...charter,
        portal: { visible_kinds: ['bug'], visible_fields: ['title'], sensitive_labels: ['security'], hidden_teams: [] },
      } as Charter,
    };
    await appendEvents(ctx, [bug('PAY-30', 'Receipt email missing', { customer: 'Initech' })]);
    const item = await portalItem(ctx, stakeholder, 'PAY-30');
    expect(item).toMatchObject({
      title: 'Receipt email missing',
      customer: null,
      component: null,
      team: null,
      severity: null,
    });
  });

  it('shares a read-only link that works without an account until it is revoked', async () => {
    await appendEvents(ctx, [bug('PAY-40', 'Invoice PDF blank')]);
    const link = await createShareLink(ctx, stakeholder, 'PAY-40', 'https://lanes.example');
    const token = link.url!.replace('https://lanes.example/s/', '');
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect((await sharedItem(ctx, token)).key).toBe('PAY-40');
    expect((await listItemShareLinks(ctx, stakeholder, 'PAY-40')).map((l) => l.url)).toEqual([null]);
    await expect(sharedItem(ctx, `${token}x`)).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
    // Another stakeholder neither sees the link nor can tell it exists; a member sees it.
    const other: Principal = { ...stakeholder, user: { ...stakeholder.user, id: 'u-2', email: 'other@acme.example' } };
    expect(await listItemShareLinks(ctx, other, 'PAY-40')).toEqual([]);
    const member: Principal = {
      ...stakeholder,
      user: { ...stakeholder.user, id: 'u-3', email: 'mia@acme.example', role: 'member' },
    };
    expect((await listItemShareLinks(ctx, member, 'PAY-40')).map((l) => l.id)).toEqual([link.id]);
    await expect(revokeItemShareLink(ctx, other, link.id)).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
    await revokeItemShareLink(ctx, stakeholder, link.id);
    await expect(sharedItem(ctx, token)).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
    // A label added later makes the item sensitive: the link stops working too.
    const second = await createShareLink(ctx, stakeholder, 'PAY-40', 'https://lanes.example');
    await appendEvents(ctx, [ev('PAY-40', '2026-05-22T09:00:00Z', { kind: 'label_added', target: 'vulnerability' })]);
    await expect(sharedItem(ctx, second.url!.split('/s/')[1]!)).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
  });

  it('counts portal lookups once per viewer, item and day for the middleman load', async () => {
    await appendEvents(ctx, [bug('PAY-50', 'Slow refunds')]);
    recordPortalLookup(ctx, 'PAY-50', 'user:a');
    recordPortalLookup(ctx, 'PAY-50', 'user:a');
    recordPortalLookup(ctx, 'PAY-50', 'user:b');
    expect(await flushPortalLookups(ctx)).toBe(2);
    const rows = await database.db
      .selectFrom('middleman_week')
      .selectAll()
      .where('kind', '=', 'portal_lookup')
      .execute();
    expect(rows.map((r) => [r.team, r.person_id, Number(r.signals)])).toEqual([['payments', 'priya.raman', 2]]);
  });

  it('keeps the stage history (and its ids) through an out-of-order delivery and a rebuild', async () => {
    await appendEvents(ctx, [
      bug('PAY-60', 'Duplicate charge'),
      ev('PAY-60', '2026-05-20T12:00:00Z', { kind: 'field_changed', field: 'state', to: 'in review' }),
    ]);
    const before = (await portalItem(ctx, stakeholder, 'PAY-60')).history.map((h) => h.id);
    // Arrives late, sorts before the review.
    await appendEvents(ctx, [
      ev('PAY-60', '2026-05-20T10:00:00Z', { kind: 'field_changed', field: 'state', to: 'in progress' }),
    ]);
    const after = (await portalItem(ctx, stakeholder, 'PAY-60')).history;
    expect(after.map((h) => h.to)).toEqual(['reported', 'being_fixed', 'fix_in_review']);
    expect(after.map((h) => h.id)).toEqual(expect.arrayContaining(before));
    await rebuildProjection(ctx);
    expect((await portalItem(ctx, stakeholder, 'PAY-60')).history.map((h) => h.id)).toEqual(after.map((h) => h.id));
    expect((await searchPortal(ctx, stakeholder, query({ q: 'duplicate charge' }))).items).toHaveLength(1);
    expect(await ensurePortalIndex(ctx)).toBe('refreshed');
    expect(await ensurePortalIndex(ctx)).toBeNull();
  });
});
