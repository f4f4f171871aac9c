import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE, screenshot, signIn, startE2e, type E2e, type Session } from './e2e.helper.js';
import { XSS_TITLE } from './server.test-helper.js';

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
    await page.getByTestId('overview-ready').waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link').allTextContents()).resolves.toEqual(['Overview', 'Decision rights', 'Items']);
    expect(await page.getByTestId('signed-in-user').textContent()).toContain('stakeholder');

    for (const path of ['/admin/users', '/admin/audit', '/admin/tokens']) {
      await page.goto(path);
      await page.getByRole('heading', { name: "You don't have access" }).waitFor();
    }
    await screenshot(page, 'no-access');
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
