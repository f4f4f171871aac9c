import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoundaryReport, MiddlemanReport } from '../../src/api/boundaries.contract.js';
import { PHONE, screenshot, signIn, startE2e, type E2e, type Session } from './e2e.helper.js';

/**
 * The Boundaries page in headless Chromium against the real server and the demo
 * workspace, where the Payments product manager sets bug priorities and assigns
 * engineers (crossings from product to engineering).
 */
describe('Boundaries page in Chromium', () => {
  let e2e: E2e;
  const sessions: Session[] = [];
  const member = { email: 'member@acme.example', password: 'member-password-e2e', name: 'Mo Member' };

  const open = async (viewport?: { width: number; height: number }): Promise<Session> => {
    const session = await e2e.open(viewport);
    sessions.push(session);
    return session;
  };

  const asMember = async (viewport?: { width: number; height: number }): Promise<Session> => {
    const session = await open(viewport);
    await signIn(session.page, member);
    return session;
  };

  beforeAll(async () => {
    e2e = await startE2e();
    // The e2e server has an admin and a stakeholder; the admin adds a member, as a person would.
    const { page } = await open();
    await signIn(page, e2e.server.admin);
    const { csrfToken } = (await (await page.request.get('/api/v1/session')).json()) as { csrfToken: string };
    const added = await page.request.post('/api/v1/users', {
      data: { ...member, role: 'member' },
      headers: { 'x-csrf-token': csrfToken },
    });
    if (added.status() !== 201)
      throw new Error(`adding the e2e member failed: ${added.status()} ${await added.text()}`);
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await e2e?.close();
  });

  const charterNames = async (page: Page): Promise<string[]> => {
    const charter = (await (await page.request.get('/api/v1/charter')).json()) as { people?: { name: string }[] };
    const names = (charter.people ?? []).map((p) => p.name);
    expect(names.length).toBeGreaterThan(10);
    return names;
  };

  it('shows a member the crossings on Payments: product sets bug priorities and assigns engineers', async () => {
    const { page, pageErrors } = await asMember();
    await page.getByTestId('overview-ready').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Boundaries' }).click();
    await page.waitForURL(/\/boundaries$/);
    await page.getByRole('heading', { name: 'Boundaries', level: 1 }).waitFor();

    await page.getByLabel('Team', { exact: true }).selectOption('payments');
    await page.waitForURL(/team=payments/);
    const team = page.getByTestId('boundary-team-payments');
    await team.getByRole('heading', { name: 'Payments', level: 2 }).waitFor();
    // The all-teams report shows Payments too: wait for the filtered one to replace it.
    await page.getByTestId('boundary-team-growth').waitFor({ state: 'detached' });
    expect(await page.getByTestId('boundary-team-growth').count()).toBe(0);
    expect(await team.getByTestId('boundary-headline').textContent()).toMatch(/\d+% of decisions made in lane/);

    const domains = team.getByTestId('boundary-domains');
    for (const domain of ['eng.bug-triage', 'eng.assignment']) {
      const row = domains.locator(`tr[data-domain="${domain}"]`);
      await row.waitFor();
      const crossings = (await row.locator('td').nth(3).textContent())!;
      expect(Number(crossings.match(/^[\d,]+/)![0].replace(/,/g, ''))).toBeGreaterThan(0);
      expect(crossings).toContain('Product → engineering');
    }
    const directions = team.getByTestId('boundary-directions');
    const productToEngineering = directions.locator('[data-direction=product_to_engineering] dd');
    expect(Number((await productToEngineering.textContent())!.match(/^[\d,]+/)![0].replace(/,/g, ''))).toBeGreaterThan(
      0,
    );
    expect(await team.getByTestId('boundary-concentration').textContent()).toContain('eng.bug-triage');

    const chart = team.getByTestId('boundary-chart');
    expect(await chart.getAttribute('role')).toBe('img');
    expect(await chart.getAttribute('aria-label')).toMatch(/^Payments: decisions per week/);
    expect(await chart.locator('g.chart-week > title').count()).toBeGreaterThan(4);
    expect(await chart.locator('rect.chart-crossing').count()).toBeGreaterThan(0);

    // The page counts decisions, never a person's: no name outside the example sentences and the PM load table.
    const names = await charterNames(page);
    const counted = await page.evaluate<string>(`(() => {
      const main = document.querySelector('main').cloneNode(true);
      for (const el of main.querySelectorAll('.boundary-examples, [data-testid=middleman-pms]')) el.remove();
      return main.textContent;
    })()`);
    expect(counted).toContain('eng.bug-triage');
    for (const name of names) expect(counted, name).not.toContain(name);
    // Example sentences name people by first name, so the counted parts are checked for those too.
    const firstNames = [...new Set(names.map((name) => name.split(' ')[0]!))];
    for (const part of ['boundary-domains', 'boundary-trend', 'boundary-directions', 'boundary-concentration']) {
      const text = (await team.getByTestId(part).textContent())!;
      for (const name of firstNames)
        expect(text, `${name} in ${part}`).not.toMatch(new RegExp(`(?<!\\p{L})${name}(?!\\p{L})`, 'u'));
    }

    // The product-manager load keeps the API's order; it is load carried, not a ranking.
    const middleman = (await (
      await page.request.get('/api/v1/middleman?team=payments&since=90d')
    ).json()) as MiddlemanReport;
    const pmTeam = middleman.teams.find((t) => t.team.id === 'payments')!;
    const pmCard = page.getByTestId('middleman-payments');
    await pmCard.waitFor();
    const load = pmTeam.totals.pings + pmTeam.totals.relays + pmTeam.totals.portalLookups;
    if (load > 0 && pmTeam.productManagers.length > 0) {
      const rows = await pmCard.getByTestId('middleman-pms').locator('tbody th').allTextContents();
      expect(rows).toEqual(pmTeam.productManagers.map((pm) => pm.name));
      expect(await pmCard.getByTestId('middleman-chart').getAttribute('aria-label')).toMatch(/^Payments: status pings/);
    }
    expect(counted).not.toMatch(/\b(rank|ranked|ranking|top \d+|worst|best)\b/i);
    await screenshot(page, 'boundaries');

    // An example tells one crossing in a sentence and opens the item with its history.
    const example = team.getByTestId('boundary-examples').locator('li[data-domain="eng.bug-triage"]').first();
    const sentence = (await example.locator('.example-sentence').textContent())!;
    expect(sentence).toContain('Payments charter');
    expect(await example.isVisible()).toBe(true);
    const link = example.getByRole('link');
    const key = (await link.textContent())!.match(/^Open (\S+) and its history$/)![1]!;
    await link.click();
    await page.waitForURL(new RegExp(`/items/${encodeURIComponent(key)}$`));
    await page.getByTestId('item-title').waitFor();
    expect(await page.locator('main').textContent()).toContain(key);
    await page.getByTestId('item-history').locator('li').first().waitFor();

    await page.goBack();
    await page.getByLabel('Period').selectOption('30d');
    await page.waitForURL(/since=30d/);
    await page.getByTestId('boundary-team-payments').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('says when the charter changed since the last recompute, and when there is no charter team', async () => {
    const { page, pageErrors } = await asMember();
    await page.route('**/api/v1/boundaries**', async (route) => {
      const response = await route.fetch();
      const report = (await response.json()) as BoundaryReport;
      await route.fulfill({ response, json: { ...report, current: false } });
    });
    await page.goto('/boundaries');
    const notice = page.getByTestId('boundaries-not-current');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('The charter changed since the last recompute');
    await page.getByTestId('boundary-team-payments').waitFor();

    await page.unroute('**/api/v1/boundaries**');
    const empty = { since: '2026-01-05', generatedAt: new Date().toISOString(), current: true, recomputedAt: null };
    await page.route('**/api/v1/boundaries**', (route) => route.fulfill({ json: { ...empty, teams: [] } }));
    await page.route('**/api/v1/middleman**', (route) =>
      route.fulfill({ json: { since: empty.since, generatedAt: empty.generatedAt, teams: [] } }),
    );
    await page.goto('/boundaries?since=365d');
    await page.getByText('No teams in the charter yet').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const { page, pageErrors } = await asMember(PHONE);
    await page.goto('/boundaries?team=payments');
    await page.getByTestId('boundary-chart').waitFor();
    expect(
      await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    ).toBe(0);
    await screenshot(page, 'boundaries-phone');
    expect(pageErrors).toEqual([]);
  });

  it('gives a stakeholder no Boundaries link, and refuses the page and the API', async () => {
    const { page, pageErrors } = await open();
    await signIn(page, e2e.server.stakeholder);
    await page.getByRole('heading', { name: 'Status portal', level: 1 }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Boundaries' }).count()).toBe(0);
    await page.goto('/boundaries');
    await page.getByRole('heading', { name: "You don't have access" }).waitFor();
    expect(await page.locator('main').textContent()).toContain('members and admins');
    expect(await page.getByTestId('boundary-team-payments').count()).toBe(0);
    for (const path of ['/api/v1/boundaries', '/api/v1/middleman?since=90d']) {
      const response = await page.request.get(path);
      expect(response.status(), path).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('LANES_FORBIDDEN');
    }
    expect(pageErrors).toEqual([]);
  });
});
