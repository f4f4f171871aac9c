import { createRequire } from 'node:module';
import type { AxeResults } from 'axe-core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortalItem, ShareLink } from '../../src/api/portal.contract.js';
import type { Subscription } from '../../src/api/subscriptions.contract.js';
import { DESKTOP, screenshot, signIn, startE2e, type E2e, type Session } from './e2e.helper.js';

const AXE_SOURCE = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

/** Items written for this test through the API, so what it searches for is known. */
const KEY = 'PRT-101';
const TITLE = 'Invoice PDF shows the wrong currency';
const CUSTOMER = 'Globex Ltd';
const TRACKER_URL = `https://acme.atlassian.net/browse/${KEY}`;
const PR_URL = 'https://github.com/acme/web/pull/412';
const INTERNAL_COMMENT = 'Internal only: the vendor broke it again, do not tell the customer';
const SECRET_KEY = 'PRT-102';
const SECRET_WORD = 'Zanzibar';

/**
 * The self-serve status portal in headless Chromium against the real server:
 * a stakeholder finds an item, reads where it stands, follows it and shares a
 * read-only link that works without an account until it is turned off.
 */
describe('Status portal in Chromium', () => {
  let e2e: E2e;
  const sessions: Session[] = [];

  const open = async (): Promise<Session> => {
    const session = await e2e.open();
    sessions.push(session);
    return session;
  };

  /** A fresh profile where the page's CSP lets an injected script run: only for the accessibility check. */
  const openForAxe = async (): Promise<Session> => {
    const context = await e2e.browser.newContext({ viewport: DESKTOP, baseURL: e2e.server.url, bypassCSP: true });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors: Error[] = [];
    page.on('pageerror', (error) => pageErrors.push(error));
    const session: Session = { context, page, pageErrors, dialogs: [], close: () => context.close() };
    sessions.push(session);
    return session;
  };

  const asStakeholder = async (session?: Session): Promise<Session> => {
    const s = session ?? (await open());
    await signIn(s.page, e2e.server.stakeholder);
    return s;
  };

  const csrfOf = async (page: Page): Promise<string> =>
    ((await (await page.request.get('/api/v1/session')).json()) as { csrfToken: string }).csrfToken;

  beforeAll(async () => {
    e2e = await startE2e();
    // An admin sends the items through the events API, as an integration would.
    const { page } = await open();
    await signIn(page, e2e.server.admin);
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const item = { key: KEY, kind: 'bug', title: TITLE, component: 'checkout', severity: 'high', customer: CUSTOMER };
    const events = [
      {
        source: 'native',
        sourceEventId: 'portal-1',
        occurredAt: at(300),
        actor: { kind: 'email', id: e2e.server.stakeholder.email },
        item: { ...item, url: TRACKER_URL, state: 'open' },
        change: { kind: 'created' },
      },
      {
        source: 'native',
        sourceEventId: 'portal-2',
        occurredAt: at(240),
        actor: { kind: 'email', id: 'engineer@acme.example' },
        item: { key: KEY },
        change: { kind: 'field_changed', field: 'state', from: 'open', to: 'in progress' },
      },
      {
        source: 'native',
        sourceEventId: 'portal-3',
        occurredAt: at(200),
        actor: { kind: 'email', id: 'engineer@acme.example' },
        item: { key: KEY },
        change: { kind: 'commented', text: INTERNAL_COMMENT },
      },
      {
        source: 'native',
        sourceEventId: 'portal-4',
        occurredAt: at(180),
        actor: { kind: 'github', id: 'engineer' },
        item: { key: KEY },
        change: { kind: 'pr_opened', data: { pr: 412, url: PR_URL } },
      },
      {
        source: 'native',
        sourceEventId: 'portal-5',
        occurredAt: at(60),
        actor: { kind: 'github', id: 'engineer' },
        item: { key: KEY },
        change: { kind: 'pr_merged', data: { pr: 412, url: PR_URL } },
      },
      // A security-sensitive item: never on any portal surface.
      {
        source: 'native',
        sourceEventId: 'portal-6',
        occurredAt: at(50),
        actor: { kind: 'email', id: e2e.server.stakeholder.email },
        item: {
          key: SECRET_KEY,
          kind: 'bug',
          title: `${SECRET_WORD} token leak in ${TITLE.toLowerCase()}`,
          component: 'checkout',
          severity: 'critical',
          customer: CUSTOMER,
        },
        change: { kind: 'created' },
      },
      {
        source: 'native',
        sourceEventId: 'portal-7',
        occurredAt: at(49),
        actor: { kind: 'email', id: 'engineer@acme.example' },
        item: { key: SECRET_KEY },
        change: { kind: 'label_added', target: 'security' },
      },
    ];
    const response = await page.request.post('/api/v1/events', {
      data: { events },
      headers: { 'x-csrf-token': await csrfOf(page) },
    });
    if (response.status() !== 200) throw new Error(`seeding failed: ${response.status()} ${await response.text()}`);
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await e2e?.close();
  });

  const search = async (page: Page, text: string): Promise<void> => {
    const box = page.getByLabel('Search by key, words, reporter, customer, or paste a tracker or Slack link');
    await box.fill(text);
    await box.press('Enter');
  };

  const results = (page: Page) => page.getByTestId('portal-results');

  const expectNoSeriousViolations = async (page: Page, what: string): Promise<void> => {
    await page.addScriptTag({ content: AXE_SOURCE });
    const report = await page.evaluate<AxeResults>('axe.run(document, { resultTypes: ["violations"] })');
    const serious = report.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect(serious, what).toEqual([]);
  };

  it('finds an item by key, by words, by a pasted tracker link and by filters', async () => {
    const { page, pageErrors } = await asStakeholder();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Status portal' }).click();
    await page.waitForURL(/\/portal$/);
    await page.getByRole('heading', { name: 'Status portal', level: 1 }).waitFor();

    // A key goes straight to the item; Back returns to the search.
    await search(page, KEY.toLowerCase());
    await page.waitForURL(new RegExp(`/portal/items/${KEY}$`));
    await page.getByTestId('portal-item-title').getByText(TITLE).waitFor();
    await page.goBack();
    await page.waitForURL(/\/portal$/);

    // Words: a list of results with the key, the title, the stage in words and when it was updated.
    await search(page, 'wrong currency');
    await page.waitForURL(/q=wrong\+currency/);
    const row = results(page).locator(`li[data-key="${KEY}"]`);
    await row.waitFor();
    expect(await row.getByRole('link').textContent()).toBe(`${KEY}${TITLE}`);
    expect(await row.locator('.badge').textContent()).toBe('Fix ready (awaiting release)');
    expect(await row.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await results(page).getByRole('listitem').count()).toBeGreaterThan(0);
    await screenshot(page, 'portal-search');

    // A pasted tracker link names the item.
    await search(page, TRACKER_URL);
    await page.waitForURL(new RegExp(`/portal/items/${KEY}$`));
    await page.getByTestId('portal-item-title').waitFor();
    await page.goBack();

    // Everything visible, newest first, a page at a time.
    await page.goto('/portal');
    await results(page).waitFor();
    expect(await results(page).getByRole('listitem').count()).toBe(20);
    await page.getByRole('button', { name: 'Load more' }).click();
    await results(page).getByRole('listitem').nth(39).waitFor();

    // Filters: customer and stage.
    await page.getByLabel('Customer', { exact: true }).fill(CUSTOMER.toLowerCase());
    await page.getByLabel('Customer', { exact: true }).press('Enter');
    await page.waitForURL(/customer=globex/);
    await results(page).locator(`li[data-key="${KEY}"]`).waitFor();
    await page.getByLabel('Stage', { exact: true }).selectOption('fix_ready');
    await page.waitForURL(/stage=fix_ready/);
    await results(page).locator(`li[data-key="${KEY}"]`).waitFor();
    await page.getByLabel('Stage', { exact: true }).selectOption('verified');
    await page.waitForURL(/stage=verified/);
    await page.getByText('Nothing matches your search').waitFor();
    expect(await results(page).count()).toBe(0);

    // "Items I reported" keeps the stakeholder's own items.
    await page.goto('/portal');
    await page.getByRole('navigation', { name: 'Which items' }).getByRole('link', { name: 'Items I reported' }).click();
    await page.waitForURL(/mine=reported/);
    await results(page).locator(`li[data-key="${KEY}"]`).waitFor();

    await search(page, 'qwxzv nothing like this');
    await page.getByText('Nothing matches your search').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('shows the stage in plain words, what happens next and the history with evidence, without internal chatter', async () => {
    const { page, pageErrors } = await asStakeholder();
    const api = (await (await page.request.get(`/api/v1/portal/items/${KEY}`)).json()) as PortalItem;
    await page.goto(`/portal/items/${KEY}`);
    const status = page.getByTestId('portal-status');
    await status.waitFor();
    expect(await status.locator('.badge').textContent()).toBe(api.stageLabel);
    expect(await status.textContent()).toContain(api.status);
    expect(await page.getByTestId('portal-next').textContent()).toBe(api.next);
    const nextUpdate = (await page.getByTestId('portal-next-update').textContent())!;
    expect(nextUpdate).toMatch(api.nextUpdateDue ? /^(Due by|It was due) / : /No update is scheduled/);

    const history = page.getByTestId('portal-history').locator(':scope > li');
    expect(await history.count()).toBe(api.history.length);
    expect(api.history.length).toBeGreaterThanOrEqual(3);
    for (const [i, step] of api.history.entries()) {
      const li = history.nth(i);
      expect(await li.textContent()).toContain(step.label);
      expect(await li.textContent()).toContain(step.evidence.summary);
      expect(await li.locator('time').getAttribute('datetime')).toBe(step.at);
    }
    const evidence = page.getByTestId('portal-history').locator(`a[href="${PR_URL}"]`);
    expect(await evidence.count()).toBeGreaterThan(0);
    expect(await evidence.first().getAttribute('rel')).toContain('noopener');

    const text = (await page.locator('main').textContent())!;
    expect(text).not.toContain(INTERNAL_COMMENT);
    expect(text).not.toContain('vendor broke it');
    await screenshot(page, 'portal-item');
    expect(pageErrors).toEqual([]);
  });

  it('follows and unfollows an item, and lists it under "Items I follow"', async () => {
    const { page, pageErrors } = await asStakeholder();
    const mine = async (): Promise<Subscription[]> =>
      (
        (await (await page.request.get('/api/v1/subscriptions')).json()) as { subscriptions: Subscription[] }
      ).subscriptions.filter((s) => s.target.kind === 'item' && s.target.value === KEY);

    await page.goto(`/portal/items/${KEY}`);
    await page.getByRole('button', { name: 'Follow', exact: true }).click();
    await page.getByRole('button', { name: 'Unfollow', exact: true }).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: `You follow ${KEY}` })
      .waitFor({ state: 'attached' });
    expect(await mine()).toHaveLength(1);

    await page.reload();
    await page.getByRole('button', { name: 'Unfollow', exact: true }).waitFor();
    await page.goto('/portal?mine=followed');
    await results(page).locator(`li[data-key="${KEY}"]`).waitFor();

    await page.goto(`/portal/items/${KEY}`);
    await page.getByRole('button', { name: 'Unfollow', exact: true }).click();
    await page.getByRole('button', { name: 'Follow', exact: true }).waitFor();
    expect(await mine()).toHaveLength(0);
    await page.goto('/portal?mine=followed');
    await page.getByText("You don't follow any items yet").waitFor();

    // E-mail to someone else's address waits for them to confirm, and the page says so.
    const other = await page.request.post('/api/v1/subscriptions', {
      data: { target: { kind: 'item', key: KEY }, address: 'colleague@elsewhere.example' },
      headers: { 'x-csrf-token': await csrfOf(page) },
    });
    expect(other.status()).toBe(201);
    await page.goto('/subscriptions');
    await page
      .getByTestId('subscription-pending')
      .filter({ hasText: 'waiting for confirmation by colleague@elsewhere.example' })
      .waitFor();
    const created = (await other.json()) as Subscription;
    const removed = await page.request.delete(`/api/v1/subscriptions/${created.id}`, {
      headers: { 'x-csrf-token': await csrfOf(page) },
    });
    expect(removed.status()).toBe(204);
    expect(pageErrors).toEqual([]);
  });

  it('shares a read-only link that works without an account until it is turned off', async () => {
    const { page, pageErrors } = await asStakeholder();
    await page.goto(`/portal/items/${KEY}`);
    await page.getByRole('button', { name: 'Create a link' }).click();
    const url = await page.getByTestId('portal-share-url').inputValue();
    const path = new URL(url).pathname;
    expect(path).toMatch(/^\/s\/[\w-]{10,}$/);
    const links = page.getByTestId('portal-links');
    await links.getByText('working').waitFor();

    // A visitor without a session reads the item, and nothing else.
    const visitor = await open();
    await visitor.page.goto(path);
    await visitor.page.getByTestId('portal-item-title').getByText(TITLE).waitFor();
    expect(visitor.page.url()).toContain(path);
    expect(await visitor.page.getByTestId('portal-status').textContent()).toContain('Fix ready');
    await visitor.page.getByTestId('portal-history').locator('li').first().waitFor();
    expect(await visitor.page.getByRole('button', { name: /follow/i }).count()).toBe(0);
    expect(await visitor.page.getByRole('button', { name: 'Create a link' }).count()).toBe(0);
    expect(await visitor.page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    expect(await visitor.page.locator('body').textContent()).not.toContain(INTERNAL_COMMENT);
    await screenshot(visitor.page, 'portal-shared');
    const token = path.split('/').pop()!;
    const shared = (await (await visitor.page.request.get(`/api/v1/public/share/${token}`)).json()) as PortalItem;
    expect(shared.key).toBe(KEY);
    expect(shared.following).toBe(false);

    // Turned off: the link is refused from then on.
    const listed = (
      (await (await page.request.get(`/api/v1/portal/items/${KEY}/shares`)).json()) as { links: ShareLink[] }
    ).links;
    const link = listed.find((l) => !l.revokedAt)!;
    expect(link.url).toBeNull();
    const row = links.locator(`li[data-link-id="${link.id}"]`);
    await row.getByRole('button', { name: /^Turn off the link/ }).click();
    await row.getByRole('button', { name: 'Yes, turn it off' }).click();
    await row.getByText('turned off').waitFor();

    await visitor.page.reload();
    await visitor.page
      .getByRole('heading', { name: 'This item does not exist or is not shared with you', level: 1 })
      .waitFor();
    expect(await visitor.page.locator('body').textContent()).not.toContain(TITLE);
    expect((await visitor.page.request.get(`/api/v1/public/share/${token}`)).status()).toBe(404);
    expect(pageErrors).toEqual([]);
    expect(visitor.pageErrors).toEqual([]);
  });

  it('goes from search to a result to the item with the keyboard only', async () => {
    const { page, pageErrors } = await asStakeholder();
    await page.goto('/portal');
    await page.getByRole('heading', { name: 'Status portal', level: 1 }).waitFor();
    const focusedId = () => page.evaluate<string>('document.activeElement?.id ?? ""');
    const tabUntil = async (matches: () => Promise<boolean>, what: string) => {
      for (let i = 0; i < 40; i++) {
        if (await matches()) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`Tab never reached ${what}`);
    };

    await tabUntil(async () => (await focusedId()) === 'portal-q', 'the search box');
    await page.keyboard.type('wrong currency');
    await page.keyboard.press('Enter');
    const link = results(page).locator(`li[data-key="${KEY}"] a`);
    await link.waitFor();
    const href = await link.getAttribute('href');
    await tabUntil(
      () => page.evaluate<boolean>(`document.activeElement?.getAttribute('href') === ${JSON.stringify(href)}`),
      'the result',
    );
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/portal/items/${KEY}$`));
    await page.getByTestId('portal-item-title').waitFor();
    // Focus moved to the new page, so the next Tab continues from its content.
    expect(await page.evaluate<string>('document.activeElement?.id ?? ""')).toBe('main');
    await tabUntil(
      () => page.evaluate<boolean>(`document.activeElement?.dataset?.testid === 'portal-follow'`),
      'the Follow button',
    );
    expect(pageErrors).toEqual([]);
  });

  it('never shows a security-sensitive item: not in search, not by address, not by link', async () => {
    const { page, pageErrors } = await asStakeholder();
    await page.goto('/portal');
    await search(page, SECRET_WORD);
    await page.getByText('Nothing matches your search').waitFor();
    expect(await page.locator('main').textContent()).not.toContain(SECRET_KEY);

    await search(page, SECRET_KEY);
    await page.getByText('Nothing matches your search').waitFor();
    expect(page.url()).toMatch(/\/portal\?q=PRT-102$/);

    await page.goto(`/portal?customer=${encodeURIComponent(CUSTOMER)}`);
    await results(page).locator(`li[data-key="${KEY}"]`).waitFor();
    expect(await results(page).locator(`li[data-key="${SECRET_KEY}"]`).count()).toBe(0);
    await page.goto('/portal?mine=reported');
    await results(page).locator(`li[data-key="${KEY}"]`).waitFor();
    expect(await results(page).locator(`li[data-key="${SECRET_KEY}"]`).count()).toBe(0);

    await page.goto(`/portal/items/${SECRET_KEY}`);
    await page.getByRole('heading', { name: 'This item does not exist or is not shared with you', level: 1 }).waitFor();
    expect(await page.locator('main').textContent()).not.toContain(SECRET_WORD);

    const csrf = await csrfOf(page);
    expect((await page.request.get(`/api/v1/portal/items/${SECRET_KEY}`)).status()).toBe(404);
    const share = await page.request.post(`/api/v1/portal/items/${SECRET_KEY}/share`, {
      data: {},
      headers: { 'x-csrf-token': csrf },
    });
    expect(share.status()).toBe(404);
    const found = await page.request.get(`/api/v1/portal/search?q=${SECRET_WORD}`);
    expect(JSON.stringify(await found.json())).not.toContain(SECRET_KEY);
    expect(pageErrors).toEqual([]);
  });

  it('passes an automated accessibility check on the search page, an item page and a shared page', async () => {
    const signedIn = await openForAxe();
    await asStakeholder(signedIn);
    const { page } = signedIn;
    await page.goto('/portal?q=wrong+currency');
    await results(page).locator(`li[data-key="${KEY}"]`).waitFor();
    await expectNoSeriousViolations(page, 'search page');

    await page.goto(`/portal/items/${KEY}`);
    await page.getByTestId('portal-links').or(page.getByText('No links yet.')).waitFor();
    await expectNoSeriousViolations(page, 'item page');

    await page.getByRole('button', { name: 'Create a link' }).click();
    const path = new URL(await page.getByTestId('portal-share-url').inputValue()).pathname;
    const visitor = await openForAxe();
    await visitor.page.goto(path);
    await visitor.page.getByTestId('portal-history').waitFor();
    await expectNoSeriousViolations(visitor.page, 'shared page');
    expect(signedIn.pageErrors).toEqual([]);
    expect(visitor.pageErrors).toEqual([]);
  });
});
