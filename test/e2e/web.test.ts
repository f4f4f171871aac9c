import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE, screenshot, signIn, startE2e, type E2e, type Session } from './e2e.helper.js';
import { XSS_LABEL, XSS_TITLE } from './server.test-helper.js';

/** What a person does in the web app, in headless Chromium against the real server. */
describe('web app in Chromium', () => {
  let e2e: E2e;
  const sessions: Session[] = [];

  beforeAll(async () => {
    e2e = await startE2e();
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await e2e?.close();
  });

  const open = async (viewport?: { width: number; height: number }): Promise<Session> => {
    const session = await e2e.open(viewport);
    sessions.push(session);
    return session;
  };

  const asAdmin = async (viewport?: { width: number; height: number }): Promise<Session> => {
    const session = await open(viewport);
    await signIn(session.page, e2e.server.admin);
    return session;
  };

  it('sends a visitor who is not signed in to the login page', async () => {
    const { page, pageErrors } = await open();
    await page.goto('/items');
    await page.waitForURL(/\/login\?next=%2Fitems$/);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'login');
    expect(pageErrors).toEqual([]);
  });

  it('says so when the password is wrong, with the code from the API', async () => {
    const { page } = await open();
    await page.goto('/login');
    await page.getByLabel('E-mail').fill(e2e.server.admin.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.locator('#login-error');
    await error.getByText('LANES_UNAUTHENTICATED').waitFor();
    expect(await error.textContent()).toContain('do not match');
    expect(page.url()).toContain('/login');
  });

  it('lets an admin log in and see the overview with its numbers', async () => {
    const { page, pageErrors } = await asAdmin();
    await page.getByTestId('overview-ready').waitFor();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Acme Commerce');

    const stat = (label: string) =>
      page.locator('.stat', { has: page.locator('dt', { hasText: label }) }).locator('dd');
    const items = Number((await stat('Items').first().textContent())!.replace(/,/g, ''));
    expect(items).toBeGreaterThan(300);
    expect(Number((await stat('Events').textContent())!.replace(/,/g, ''))).toBeGreaterThan(items);
    for (const team of ['Payments', 'Growth', 'Platform'])
      await expect(page.getByRole('rowheader', { name: team }).count()).resolves.toBe(1);
    await expect(page.getByRole('heading', { name: 'Items by kind and stage' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('heading', { name: 'Recent activity' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('heading', { name: 'Data freshness' }).isVisible()).resolves.toBe(true);

    const user = page.getByTestId('signed-in-user');
    expect(await user.textContent()).toContain('Ada Admin');
    expect(await user.textContent()).toContain('admin');
    const marks = await page.evaluate(() => performance.getEntriesByName('overview-ready').length);
    expect(marks).toBe(1);
    await screenshot(page, 'overview');
    expect(pageErrors).toEqual([]);
  });

  it('answers "who decides the priority of a bug?" on the decision-rights page', async () => {
    const { page, pageErrors } = await asAdmin();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Decision rights' }).click();
    await page.getByRole('heading', { name: 'Decision rights', level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Decision rights by domain and team' }).waitFor();
    await expect(page.getByRole('heading', { name: 'Delegations in force' }).isVisible()).resolves.toBe(true);

    await page.getByLabel('Your question about a decision').fill('who decides the priority of a bug?');
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    const answer = page.getByTestId('who-decides-answer');
    await answer.getByText('eng.bug-triage').first().waitFor();
    expect(await answer.getAttribute('aria-live')).toBe('polite');
    expect(await answer.textContent()).toContain('Bug triage');
    await screenshot(page, 'decisions');
    expect(pageErrors).toEqual([]);
  });

  it('searches items, opens one and shows its history in order', async () => {
    const { page, pageErrors } = await asAdmin();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Items' }).click();
    await page.getByTestId('items-table').waitFor();
    await page.getByLabel('Search items by key or title').fill('checkout');
    await page.getByLabel('Search items by key or title').press('Enter');
    await page.waitForURL(/q=checkout/);
    const titles = page.locator('[data-testid=items-table] tbody .title-cell');
    await expect
      .poll(async () => {
        const texts = await titles.allTextContents();
        return texts.length > 0 && texts.every((t) => t.toLowerCase().includes('checkout'));
      })
      .toBe(true);
    await screenshot(page, 'items');

    const firstKey = page.locator('[data-testid=items-table] tbody tr').first().getByRole('link');
    const key = (await firstKey.textContent())!;
    await firstKey.click();
    await page.waitForURL(new RegExp(`/items/${key}$`));
    const history = page.getByTestId('item-history').locator('li');
    await history.first().waitFor();
    expect(await history.count()).toBeGreaterThan(0);
    expect(await history.first().textContent()).toContain('created the item');
    const times = await page
      .getByTestId('item-history')
      .locator('time')
      .evaluateAll((els) => els.map((el) => el.getAttribute('datetime') ?? ''));
    expect(times).toEqual([...times].sort());
    await screenshot(page, 'item');
    expect(pageErrors).toEqual([]);
  });

  it('loads more items with the cursor', async () => {
    const { page } = await asAdmin();
    await page.goto('/items');
    const rows = page.locator('[data-testid=items-table] tbody tr');
    await rows.first().waitFor();
    const before = await rows.count();
    expect(before).toBe(50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => rows.count()).toBeGreaterThan(before);
    const keys = await page.locator('[data-testid=items-table] tbody th.key').allTextContents();
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('renders an item titled with HTML as text, in the list and on its page', async () => {
    const { page, dialogs, pageErrors } = await asAdmin();
    await page.goto('/items?q=PAY-9999');
    const cell = page.locator('[data-testid=items-table] tbody .title-cell').first();
    await cell.waitFor();
    expect(await cell.textContent()).toBe(XSS_TITLE);

    await page.goto('/items/PAY-9999');
    const title = page.getByTestId('item-title');
    await title.waitFor();
    expect(await title.textContent()).toBe(XSS_TITLE);
    await page.waitForTimeout(300); // time for an injected onerror handler to have fired
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('shows an empty state, not an error, for SQL typed into the search', async () => {
    const { page, pageErrors } = await asAdmin();
    await page.goto('/items');
    await page.getByTestId('items-table').waitFor();
    await page.getByLabel('Search items by key or title').fill("' OR 1=1 --");
    await page.getByLabel('Search items by key or title').press('Enter');
    await page.getByText('No items match these filters').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByTestId('items-table').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('explains a refused request with the message and code from the API', async () => {
    const { page, pageErrors } = await asAdmin();
    await page.goto('/items?kind=spaceship');
    const alert = page.getByRole('alert');
    await alert.getByText('LANES_VALIDATION').waitFor();
    expect(await alert.textContent()).toContain('The items could not be loaded');
    expect(await alert.textContent()).toContain('kind');
    await expect(alert.getByRole('button', { name: 'Try again' }).isVisible()).resolves.toBe(true);

    await page.goto('/items/NOPE-404');
    await page.getByText('No item with this key').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('logs out back to the login page, and the session is really gone', async () => {
    const { page } = await asAdmin();
    await page.getByTestId('overview-ready').waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login$/);
    await page.getByLabel('E-mail').waitFor();
    await page.goto('/decisions');
    await page.waitForURL(/\/login\?next=%2Fdecisions$/);
  });

  it('sends a person whose session ended to sign in, then back to where they were going', async () => {
    const { page, context } = await asAdmin();
    await page.getByTestId('overview-ready').waitFor();
    await context.clearCookies(); // as when the session expires
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Decision rights' }).click();
    await page.waitForURL(/\/login\?next=%2Fdecisions$/);
    await page.getByLabel('E-mail').fill(e2e.server.admin.email);
    await page.getByLabel('Password').fill(e2e.server.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/decisions$/);
    await page.getByRole('heading', { name: 'Decision rights', level: 1 }).waitFor();
  });

  it('shows admins the users, the audit log, and API tokens they can create and revoke', async () => {
    const { page, pageErrors } = await asAdmin();
    const admin = page.getByRole('navigation', { name: 'Main' });
    await admin.getByRole('link', { name: 'Users' }).click();
    const users = page.getByTestId('users-table');
    await users.waitFor();
    expect(await users.textContent()).toContain(e2e.server.admin.email);
    expect(await users.textContent()).toContain(e2e.server.stakeholder.email);
    await screenshot(page, 'admin-users');

    await admin.getByRole('link', { name: 'API tokens' }).click();
    await page.getByLabel('Name').fill('e2e sync job');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.getByTestId('token-secret').inputValue();
    expect(secret.length).toBeGreaterThan(20);
    const row = page.getByTestId('tokens-table').getByRole('row', { name: /e2e sync job/ });
    await row.getByText('active').waitFor();
    await row.getByRole('button', { name: 'Revoke e2e sync job' }).click();
    await row.getByRole('button', { name: 'Yes, revoke e2e sync job' }).click();
    await row.getByText('revoked').waitFor();

    await admin.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('token.create').first().waitFor();
    await expect(page.getByText('token.revoke').count()).resolves.toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
  });

  it('refuses a stakeholder on the admin pages and shows no admin links', async () => {
    const { page, pageErrors } = await open();
    await signIn(page, e2e.server.stakeholder);
    // Stakeholders land on the status portal; the internal overview and items are for members.
    await page.getByRole('heading', { name: 'Status portal', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/portal');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link').allTextContents()).resolves.toEqual([
      'Status portal',
      'Decision rights',
      'My subscriptions',
      'My API tokens',
    ]);
    expect(await page.getByTestId('signed-in-user').textContent()).toContain('stakeholder');

    for (const path of ['/admin/users', '/admin/audit', '/admin/tokens']) {
      await page.goto(path);
      await page.getByRole('heading', { name: "You don't have access" }).waitFor();
    }
    await screenshot(page, 'no-access');
    expect(pageErrors).toEqual([]);
  });

  it('shows an admin each source: counts, webhook deliveries, the unknown event type and unmapped values', async () => {
    const { page, pageErrors } = await asAdmin();
    await page.getByTestId('overview-ready').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sources' }).click();
    await page.waitForURL(/\/sources$/);
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();

    const api = (await (await page.request.get('/api/v1/sources')).json()) as {
      sources: { source: string; events: number; duplicates: number }[];
    };
    const github = api.sources.find((s) => s.source === 'github')!;
    expect(github.events).toBeGreaterThan(0);

    const card = page.getByTestId('source-github');
    await card.getByRole('heading', { name: 'GitHub', level: 2 }).waitFor();
    const fact = (label: string) =>
      card.locator('.fact', { has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');
    const count = async (label: string) => Number((await fact(label).first().textContent())!.replace(/,/g, ''));
    expect(await count('Events stored')).toBe(github.events);
    expect(await count('Duplicates skipped')).toBe(github.duplicates);
    expect(await fact('Newest event').textContent()).toMatch(/ago|yesterday|just now/);
    expect(await fact('Lag').textContent()).toMatch(/(minute|hour|day|week)s?/);

    expect(await card.getByText('webhook active').count()).toBe(1);
    expect(await count('Received')).toBe(3);
    expect(await count('Mapped into events')).toBe(2);
    expect(await count('Unknown type, kept raw')).toBe(1);
    expect(await count('Failed')).toBe(0);
    const unknown = card.getByRole('table', { name: /Unknown event types from github/ });
    const starRow = unknown.getByRole('row', { name: /star\.created/ });
    expect(await starRow.getByRole('cell').textContent()).toBe('1');

    const unmapped = card.getByRole('table', { name: 'Unmapped values from github' });
    const repoRow = unmapped.getByRole('row', { name: /Codertocat\/Hello-World/ });
    expect(await repoRow.textContent()).toContain('Scope (repository, project or team)');
    expect(await repoRow.locator('td.num').textContent()).toBe('2');
    expect(await card.textContent()).toContain('add them to connectors.github in lanes.yaml');
    expect(await card.getByRole('heading', { name: 'Sync runs' }).isVisible()).toBe(true);
    expect(await card.getByText('No errors.').isVisible()).toBe(true);

    // A source without a webhook says so rather than showing zero deliveries.
    const jira = page.getByTestId('source-jira');
    expect(await jira.getByText('no webhook').count()).toBe(1);
    expect(await jira.textContent()).toContain('LANES_JIRA_WEBHOOK_SECRET');
    await screenshot(page, 'sources');
    expect(pageErrors).toEqual([]);
  });

  it('renders an unmapped value that is HTML as text', async () => {
    const { page, dialogs, pageErrors } = await asAdmin();
    await page.goto('/sources');
    const unmapped = page.getByTestId('source-github').getByRole('table', { name: 'Unmapped values from github' });
    const row = unmapped.getByRole('row', { name: /Label/ });
    await row.waitFor();
    expect(await row.locator('.unmapped-value').textContent()).toBe(XSS_LABEL);
    await page.waitForTimeout(300); // time for an injected onerror handler to have fired
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('tells how to connect a source when there is none, and fits a phone screen', async () => {
    const { page, pageErrors } = await asAdmin(PHONE);
    await page.route('**/api/v1/sources', (route) => route.fulfill({ json: { sources: [] } }));
    await page.goto('/sources');
    const empty = page.getByRole('status').filter({ hasText: 'No sources connected yet' });
    await empty.waitFor();
    const text = (await empty.textContent())!;
    for (const hint of ['/hooks/github', '/hooks/jira', '/hooks/linear', 'lanes sync github', 'lanes import'])
      expect(text).toContain(hint);
    expect(
      await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    ).toBe(0);

    await page.unroute('**/api/v1/sources');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByTestId('overview-ready').waitFor();
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sources' }).click();
    await page.getByTestId('source-github').waitFor();
    expect(
      await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    ).toBe(0);
    await screenshot(page, 'sources-phone');
    expect(pageErrors).toEqual([]);
  });

  it('shows a stopped sync with the command that resumes it, and errors as text', async () => {
    const { page, dialogs, pageErrors } = await asAdmin();
    const at = new Date(Date.now() - 3 * 3600 * 1000).toISOString();
    const error = `HTTP 502 from GitHub: ${XSS_LABEL}`;
    const source = {
      source: 'github',
      events: 12,
      duplicates: 0,
      lastEventAt: at,
      lastReceivedAt: at,
      lagSeconds: 3 * 3600,
      webhooks: {
        active: false,
        deliveries: 0,
        pending: 0,
        mapped: 0,
        unknown: 0,
        failed: 0,
        lastDeliveryAt: null,
        unknownTypes: [],
      },
      syncs: [
        {
          scope: 'acme/payments',
          stream: 'issues',
          lastRunStartedAt: at,
          lastSyncedAt: null,
          inProgress: true,
          units: 40,
          events: 12,
          lastError: error,
        },
      ],
      unmapped: [],
      unmappedValues: 0,
      unmappedTimes: 0,
      errors: [{ at, message: `sync acme/payments issues: ${error}` }],
    };
    // Sources that stopped part-way are not in the e2e database; the page is shown one as the API would send it.
    await page.route('**/api/v1/sources', (route) => route.fulfill({ json: { sources: [source] } }));
    await page.goto('/sources');
    const card = page.getByTestId('source-github');
    await card.waitFor();
    const fact = (label: string) =>
      card.locator('.fact', { has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) });
    expect(await fact('Newest event').locator('dd').textContent()).toMatch(/^3 hours ago/);
    expect(await fact('Lag').locator('dd').textContent()).toMatch(/^3 hours/);
    const row = card.getByRole('table', { name: /Sync runs of github/ }).getByRole('row', { name: /acme\/payments/ });
    expect(await row.textContent()).toContain('in progress or stopped');
    expect(await row.textContent()).toContain(
      'Run lanes sync github --repo acme/payments --stream issues again to resume.',
    );
    expect(await row.locator('.message-cell').textContent()).toBe(error);
    expect(await card.getByRole('listitem').filter({ hasText: 'sync acme/payments' }).textContent()).toContain(error);
    expect(await card.textContent()).toContain('LANES_GITHUB_WEBHOOK_SECRET');
    await page.waitForTimeout(300);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('gives a stakeholder no Sources link, and explains the refusal at /sources', async () => {
    const { page, pageErrors } = await open();
    await signIn(page, e2e.server.stakeholder);
    await page.getByRole('heading', { name: 'Status portal', level: 1 }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Sources' }).count()).toBe(0);
    await page.goto('/sources');
    await page.getByRole('heading', { name: "You don't have access" }).waitFor();
    expect(await page.locator('main').textContent()).toContain('members and admins');
    expect(await page.getByTestId('sources').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('fits a phone screen: no sideways scrolling, and the menu opens from a button', async () => {
    const { page, pageErrors } = await asAdmin(PHONE);
    await page.getByTestId('overview-ready').waitFor();
    // Expressions run in the page (this file is type-checked without the DOM library).
    const overflow = () =>
      page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(await overflow()).toBe(0);
    await screenshot(page, 'overview-phone');

    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.isVisible()).toBe(false);
    const menu = page.getByRole('button', { name: 'Menu' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    await menu.click();
    await nav.getByRole('link', { name: 'Items' }).click();
    await page.getByTestId('items-table').waitFor();
    expect(await nav.isVisible()).toBe(false);
    expect(await overflow()).toBe(0);
    await screenshot(page, 'items-phone');

    await page.goto('/decisions');
    await page.getByRole('table', { name: 'Decision rights by domain and team' }).waitFor();
    expect(await overflow()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('can be used with the keyboard: Tab reaches the navigation and Enter follows a link', async () => {
    const { page } = await asAdmin();
    await page.getByTestId('overview-ready').waitFor();
    let focused = '';
    for (let i = 0; i < 15 && focused !== 'Decision rights'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''");
    }
    expect(focused).toBe('Decision rights');
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/decisions$/);
    await page.getByRole('heading', { name: 'Decision rights', level: 1 }).waitFor();
  });
});
