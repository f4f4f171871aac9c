import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE_MARK, audienceEvents, VISIBLE_TITLE } from '../../src/server/audience.test-helper.js';
import { DESKTOP, screenshot, signIn, startE2e, type E2e, type Session } from './e2e.helper.js';

/**
 * The audience test in the browser (issue 13): an admin plants a
 * security-sensitive item whose title, labels, customer and comments carry a
 * marker, and a visible item whose internal discussion carries another. Then
 * every page the web app routes to — read from web/src/App.tsx, so a new page
 * is walked without anyone remembering to add it — is opened as a stakeholder
 * and anonymously; neither the page nor any response it fetched may hold a
 * marker.
 */

const MARK = AUDIENCE_MARK;
const SECRET_KEY = 'AUD-1';
const VISIBLE_KEY = 'AUD-2';
const WIDE = { width: 1366, height: 900 } as const;
const PHONE = { width: 390, height: 844 } as const;

/** Every `path="…"` of the app's router, in order; `index` routes are `/`. */
const appPaths = (): string[] => {
  const source = readFileSync(join(import.meta.dirname, '..', '..', 'web', 'src', 'App.tsx'), 'utf8');
  const paths = [...source.matchAll(/<Route\s+(?:index|path="([^"]+)")/g)].map((m) => m[1] ?? '');
  return [...new Set(paths.map((p) => (p === '*' ? '/no-such-page' : `/${p}`.replace(/^\/\//, '/'))))];
};

const fill = (path: string, samples: Record<string, string[]>): string[] => {
  let urls = [path];
  for (const name of path.match(/:[A-Za-z_]+/g) ?? []) {
    const values = samples[name.slice(1)];
    if (!values) throw new Error(`the audience web test has no sample for ${name} in ${path}: add one`);
    urls = urls.flatMap((u) => values.map((v) => u.replace(name, encodeURIComponent(v))));
  }
  return urls;
};

describe('what a stakeholder and the public see in Chromium', () => {
  let e2e: E2e;
  const sessions: Session[] = [];
  let samples: Record<string, string[]>;

  const open = async (viewport: { width: number; height: number } = DESKTOP): Promise<Session> => {
    const session = await e2e.open(viewport);
    sessions.push(session);
    return session;
  };

  const csrfOf = async (page: Page): Promise<string> =>
    ((await (await page.request.get('/api/v1/session')).json()) as { csrfToken: string }).csrfToken;

  beforeAll(async () => {
    e2e = await startE2e();
    const { page } = await open();
    await signIn(page, e2e.server.admin);
    const events = audienceEvents(SECRET_KEY, VISIBLE_KEY, new Date());
    const stored = await page.request.post('/api/v1/events', {
      headers: { 'x-csrf-token': await csrfOf(page) },
      data: { events },
    });
    expect(stored.status()).toBe(200);
    // A member sees the markers, so they are really there to leak.
    expect(await (await page.request.get(`/api/v1/items/${SECRET_KEY}`)).text()).toMatch(MARK);

    const { page: stakeholder } = await open();
    await signIn(stakeholder, e2e.server.stakeholder);
    const share = await stakeholder.request.post(`/api/v1/portal/items/${VISIBLE_KEY}/share`, {
      headers: { 'x-csrf-token': await csrfOf(stakeholder) },
      data: {},
    });
    expect(share.ok()).toBe(true);
    const shareToken = String(((await share.json()) as { url: string }).url).split('/s/')[1]!;
    samples = { key: [SECRET_KEY, VISIBLE_KEY], id: ['missing-escalation'], token: [shareToken] };
  });

  afterAll(async () => {
    for (const s of sessions) await s.close();
    await e2e?.close();
  });

  /** Opens a page and returns everything it showed and fetched. */
  const visit = async (session: Session, url: string): Promise<{ texts: string[]; final: string }> => {
    const texts: string[] = [];
    const pending: Promise<void>[] = [];
    const onResponse = (response: Response) => {
      if (!response.url().startsWith(e2e.server.url)) return;
      pending.push(
        response.text().then(
          (text) => void texts.push(`${response.url()}\n${text}`),
          () => undefined,
        ),
      );
    };
    session.page.on('response', onResponse);
    await session.page.goto(url);
    await session.page.waitForLoadState('networkidle');
    await Promise.all(pending);
    session.page.off('response', onResponse);
    texts.push(`${url} (page)\n${await session.page.content()}`);
    return { texts, final: new URL(session.page.url()).pathname };
  };

  it('shows a stakeholder no marker on any page the app routes to, at laptop and phone width', async () => {
    const paths = appPaths();
    let visited = 0;
    expect(paths).toEqual(expect.arrayContaining(['/', '/items', '/items/:key', '/portal', '/s/:token']));
    for (const viewport of [WIDE, PHONE]) {
      const session = await open(viewport);
      await signIn(session.page, e2e.server.stakeholder);
      for (const path of paths) {
        for (const url of fill(path, samples)) {
          const { texts, final } = await visit(session, url);
          visited += 1;
          for (const text of texts) expect(text, `stakeholder at ${url} (${viewport.width} px)`).not.toMatch(MARK);
          const shown = path.includes(':token') ? path : url;
          const name = `audience-stakeholder${shown.replace(/[^A-Za-z0-9]+/g, '-')}-${viewport.width}`;
          if (final === new URL(url, e2e.server.url).pathname || url === '/') await screenshot(session.page, name);
        }
      }
      expect(session.pageErrors).toEqual([]);
    }
    console.log(`audience web walk: ${paths.length} routed pages, ${visited} visits at 1366 and 390 px`);
  }, 240_000);

  it('takes a stakeholder from the internal pages to the status portal', async () => {
    const session = await open(WIDE);
    await signIn(session.page, e2e.server.stakeholder);
    expect((await visit(session, '/')).final).toBe('/portal');
    expect((await visit(session, '/items')).final).toBe('/portal');
    expect((await visit(session, `/items/${VISIBLE_KEY}`)).final).toBe(`/portal/items/${VISIBLE_KEY}`);
    await session.page.getByRole('heading', { name: VISIBLE_TITLE }).waitFor();
    await expect(session.page.getByRole('link', { name: 'Items', exact: true }).count()).resolves.toBe(0);
  });

  it('shows an anonymous visitor no marker on any page, share links included', async () => {
    const session = await open(WIDE);
    for (const path of appPaths()) {
      for (const url of fill(path, samples)) {
        const { texts } = await visit(session, url);
        for (const text of texts) expect(text, `anonymous at ${url}`).not.toMatch(MARK);
      }
    }
  }, 120_000);
});
