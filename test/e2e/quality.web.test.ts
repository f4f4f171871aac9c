import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalRow } from '../../src/api/quality.contract.js';
import { buildCharterIndex } from '../../src/domain/charter.identity.js';
import { buildDemoCharter } from '../../src/domain/demo/demo.charter.js';
import { addWeeks, weekOf } from '../../src/domain/week.js';
import { addUser } from '../../src/services/access.service.js';
import { recomputeBoundariesIfStale } from '../../src/services/boundaries.service.js';
import type { ServiceContext } from '../../src/services/context.js';
import { loadDemo } from '../../src/services/demo.service.js';
import { evaluateFindings } from '../../src/services/findings.service.js';
import { createServer } from '../../src/server/server.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { withTransaction } from '../../src/store/event.repository.js';
import { upsertSignals } from '../../src/store/quality.repository.js';
import { DESKTOP, ensureWebBuilt, launchChromium, screenshot, signIn } from './e2e.helper.js';

/**
 * The Quality page and an escalation brief in headless Chromium against the
 * real server on the demo workspace, with quality signal rows written the way
 * the signal families write them (a planted reopening ledger component), and
 * the findings catalog run once, as the recompute job would.
 */
describe('Quality and Escalations pages in Chromium', () => {
  let browser: Browser;
  let database: Database;
  let url = '';
  let close: () => Promise<void> = async () => undefined;
  const member = { email: 'member@acme.example', password: 'member-password-e2e' };
  const stakeholder = { email: 'stakeholder@acme.example', password: 'stakeholder-password-e2e' };

  beforeAll(async () => {
    ensureWebBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'lanes-e2e-quality-'));
    database = await openDatabase({ url: join(dir, 'lanes.db') });
    const now = new Date();
    const charter = buildDemoCharter(42, now);
    const loaded = { charter, index: buildCharterIndex(charter), path: 'demo', loadedAt: now.toISOString() };
    let n = 0;
    const ctx: ServiceContext = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => new Date(),
      newId: () => `e2e-q-${++n}`,
      charter: () => loaded,
    };
    await loadDemo(ctx, { items: 200, seed: 42, now });
    await recomputeBoundariesIfStale(ctx);
    const week = weekOf(now);
    const rows: SignalRow[] = [];
    const base = { team: 'payments', numerator: null, denominator: null, details: null };
    for (let i = 11; i >= 0; i--) {
      const w = addWeeks(week, -i);
      rows.push(
        { ...base, signal: 'bugs.inflow', component: 'ledger', week: w, value: 6 },
        { ...base, signal: 'bugs.outflow', component: 'ledger', week: w, value: i < 5 ? 3 : 6 },
        {
          ...base,
          signal: 'bugs.reopen_rate',
          component: 'ledger',
          week: w,
          value: i < 4 ? 0.4 : 0.05,
          numerator: i < 4 ? 4 : 1,
          denominator: i < 4 ? 10 : 20,
        },
        { ...base, signal: 'coverage.line', component: 'ledger', week: w, value: 80 - (11 - i) },
        { ...base, signal: 'dora.deploy_days', component: 'ledger', week: w, value: 3 },
        {
          ...base,
          signal: 'dora.change_failure_rate',
          component: 'ledger',
          week: w,
          value: 0.1,
          numerator: 1,
          denominator: 10,
        },
        { ...base, signal: 'pace.wip', component: null, week: w, value: 9 },
        { ...base, signal: 'pace.after_hours_share', component: null, week: w, value: 0.08 },
      );
    }
    await withTransaction(database, (tx) => upsertSignals(tx, rows));
    await evaluateFindings(ctx, now);
    await addUser(ctx, { kind: 'cli' }, { ...member, name: 'Mo Member', role: 'member' });
    await addUser(ctx, { kind: 'cli' }, { ...stakeholder, name: 'Sol Stakeholder', role: 'stakeholder' });
    const { app } = createServer(ctx, {
      bodyLimit: 1024 * 1024,
      version: 'e2e',
      webRoot: join(import.meta.dirname, '..', '..', 'web', 'dist'),
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    close = async () => {
      await browser.close();
      await app.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    };
  }, 120_000);
  afterAll(async () => {
    await close();
  });

  const open = async () => {
    const context = await browser.newContext({ viewport: DESKTOP, baseURL: url });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors: Error[] = [];
    page.on('pageerror', (e) => pageErrors.push(e));
    return { context, page, pageErrors };
  };

  it('shows Payments quality, opens the ledger brief and moves it to action planned; no per-person figures', async () => {
    const { context, page, pageErrors } = await open();
    await signIn(page, member);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Quality' }).click();
    await page.waitForURL(/\/quality/);
    await page.getByRole('heading', { name: 'Quality', level: 1 }).waitFor();
    await page.getByLabel('Team', { exact: true }).selectOption('payments');
    await page.getByLabel('Component').selectOption('ledger');
    const team = page.getByTestId('quality-team-payments');
    await team.waitFor();
    const tiles = team.getByTestId('dora-tiles');
    expect(await tiles.locator('[data-signal="dora.deploy_days"] .band').textContent()).toBe('high');
    expect(await team.getByTestId('quality-chart').count()).toBeGreaterThanOrEqual(3);
    await team.locator('.uplot').first().waitFor();
    const findings = team.getByTestId('quality-findings');
    const rules = await findings.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-rule')));
    expect(rules).toEqual(expect.arrayContaining(['bug-inflow-exceeds-outflow', 'reopen-rate-rising']));
    expect(await team.getByTestId('quality-pace').textContent()).toContain('Team level only');

    // Nothing on the Quality page names a person of the charter.
    const charter = (await (await page.request.get('/api/v1/charter')).json()) as { people: { name: string }[] };
    const qualityText = (await page.locator('main').textContent())!;
    for (const p of charter.people) expect(qualityText, p.name).not.toContain(p.name);
    expect(qualityText).not.toMatch(/\b(rank|ranked|ranking|top \d+|worst|best)\b/i);
    await screenshot(page, 'quality');

    // The inbox names only the leadership contact; the brief opens from the finding.
    await findings.locator('li[data-rule="reopen-rate-rising"] a').click();
    await page.waitForURL(/\/escalations\/reopen-rate-rising/);
    const brief = page.getByTestId('escalation-brief');
    await brief.waitFor();
    expect(await page.getByTestId('brief-state').textContent()).toBe('Open');
    expect(await page.getByTestId('brief-addressed-to').textContent()).toContain('engineering leadership');
    const causes = await page.getByTestId('brief-causes').locator('li').count();
    expect(causes).toBeGreaterThan(1);

    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('[data-testid="escalation-brief"][data-state="acknowledged"]').waitFor();
    await page.getByRole('button', { name: 'Plan action' }).click();
    await page.getByLabel('Link to the tracker item that holds the plan').fill('https://jira.example/browse/ENG-42');
    await page.getByRole('button', { name: 'Save the plan' }).click();
    await page.locator('[data-testid="escalation-brief"][data-state="action_planned"]').waitFor();
    expect(await page.getByTestId('brief-plan').getAttribute('href')).toBe('https://jira.example/browse/ENG-42');
    expect(await page.getByTestId('brief-history').locator('li').count()).toBe(3);

    // The brief names the leadership contact and, in crossing sentences, the people who decided; no figures per person.
    const briefText = await page.evaluate<string>(`(() => {
      const main = document.querySelector('main').cloneNode(true);
      for (const el of main.querySelectorAll('.brief-crossings, [data-testid=brief-addressed-to]')) el.remove();
      return main.textContent;
    })()`);
    for (const p of charter.people) expect(briefText, p.name).not.toContain(p.name);

    await page.getByRole('link', { name: '← All escalations' }).click();
    const inbox = page.getByTestId('escalation-inbox');
    await inbox.waitFor();
    const addressed = await inbox.locator('td.addressed-to').allTextContents();
    const leaders = new Set(
      (
        (await (await page.request.get('/api/v1/charter')).json()) as { people: { name: string; role: string }[] }
      ).people
        .filter((p) => p.role === 'engineering-leadership')
        .map((p) => p.name),
    );
    expect(addressed.length).toBeGreaterThan(0);
    for (const name of addressed) expect(leaders.has(name), name).toBe(true);
    const inboxText = await page.evaluate<string>(`(() => {
      const main = document.querySelector('main').cloneNode(true);
      for (const el of main.querySelectorAll('td.addressed-to')) el.remove();
      return main.textContent;
    })()`);
    for (const p of charter.people) expect(inboxText, p.name).not.toContain(p.name);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('refuses the pages and the API to a stakeholder', async () => {
    const { context, page, pageErrors } = await open();
    await signIn(page, stakeholder);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.waitFor();
    expect(await nav.getByRole('link', { name: 'Quality' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Escalations' }).count()).toBe(0);
    await page.goto('/escalations');
    await page.getByRole('heading', { name: "You don't have access" }).waitFor();
    for (const path of ['/api/v1/quality?team=payments', '/api/v1/escalations']) {
      expect((await page.request.get(path)).status(), path).toBe(403);
    }
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
