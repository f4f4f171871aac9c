import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestServer, type E2eServer } from './server.test-helper.js';

/**
 * Browser end-to-end tests drive Debian's Chromium (`apt-get install chromium`)
 * through playwright-core against the real server serving the built web app.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const WEB_SRC = join(ROOT, 'web');
const WEB_INDEX = join(ROOT, 'web', 'dist', 'index.html');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export const CHROMIUM_PATH = process.env['LANES_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const DESKTOP = { width: 1280, height: 860 } as const;
export const PHONE = { width: 375, height: 740 } as const;

const newestMtime = (dir: string): number => {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
};

/** Builds web/dist when it is missing or older than its sources, so the tests never run a stale app. */
export const ensureWebBuilt = (): void => {
  const built = existsSync(WEB_INDEX) ? statSync(WEB_INDEX).mtimeMs : 0;
  const sources = Math.max(newestMtime(WEB_SRC), statSync(join(ROOT, 'vite.config.ts')).mtimeMs);
  if (built >= sources) return;
  execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
};

export const launchChromium = async (): Promise<Browser> => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. Install it with \`apt-get install -y chromium\` or set LANES_CHROMIUM.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
};

export interface E2e {
  server: E2eServer;
  browser: Browser;
  /** A fresh browser profile (no cookies) with one page; page errors fail the test that calls `assertNoPageErrors`. */
  open(viewport?: { width: number; height: number }): Promise<Session>;
  close(): Promise<void>;
}

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions thrown in the page so far. */
  pageErrors: Error[];
  /** Whether the page ever opened a JavaScript dialog (alert, confirm, prompt). */
  dialogs: string[];
  close(): Promise<void>;
}

export const startE2e = async (): Promise<E2e> => {
  ensureWebBuilt();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const server = await startTestServer();
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    server,
    browser,
    open: async (viewport = DESKTOP) => {
      const context = await browser.newContext({ viewport, baseURL: server.url });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const pageErrors: Error[] = [];
      const dialogs: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error));
      page.on('dialog', (dialog) => {
        dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        void dialog.dismiss();
      });
      return { context, page, pageErrors, dialogs, close: () => context.close() };
    },
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
};

/** Signs in through the login form, as a person would. */
export const signIn = async (page: Page, who: { email: string; password: string }): Promise<void> => {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Attached, not visible: on a phone the header menu (with the user box) starts collapsed.
  await page.getByTestId('signed-in-user').waitFor({ state: 'attached' });
};

export const screenshot = async (page: Page, name: string): Promise<void> => {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
};
