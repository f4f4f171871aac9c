import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OIDC_CALLBACK_PATH } from '../../src/domain/oidc.js';
import { addUser } from '../../src/services/access.service.js';
import type { ServiceContext } from '../../src/services/context.js';
import { createOidcService } from '../../src/services/oidc.service.js';
import { createServer } from '../../src/server/server.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';
import { DESKTOP, ensureWebBuilt, launchChromium, screenshot } from './e2e.helper.js';

const freePort = async (): Promise<number> => {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
};

/**
 * The web app with sign-in through a real identity provider and passwords off:
 * a person clicks "Sign in with Acme SSO", signs in at the provider, lands in
 * Lanes, and signing out ends the provider's session too.
 */
describe('signing in with the company account in the browser', () => {
  let dir: string;
  let database: Database;
  let idp: TestIdp;
  let browser: Browser;
  let lanesUrl: string;
  let close: () => Promise<unknown>;

  beforeAll(async () => {
    ensureWebBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lanes-sso-'));
    database = await openDatabase({ url: join(dir, 'lanes.db') });
    lanesUrl = `http://127.0.0.1:${await freePort()}`;
    idp = await startTestIdp({
      redirectUris: [`${lanesUrl}${OIDC_CALLBACK_PATH}`],
      postLogoutRedirectUris: [`${lanesUrl}/login`],
    });
    idp.accounts.set('ana', { email: 'ana@acme.example', email_verified: true, name: 'Ana Lima', groups: ['eng'] });
    idp.accounts.set('eve', { email: 'eve@acme.example', email_verified: false, name: 'Eve', groups: ['eng'] });
    let n = 0;
    const ctx: ServiceContext = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => new Date(),
      newId: () => `sso-${++n}`,
      charter: () => undefined,
    };
    await addUser(
      ctx,
      { kind: 'cli' },
      { email: 'admin@acme.example', name: 'Ada', role: 'admin', password: 'x'.repeat(12) },
    );
    const oidc = createOidcService(
      ctx,
      {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        name: 'Acme SSO',
        scopes: ['openid', 'email', 'profile', 'groups'],
        roleClaim: 'groups',
        groups: { admin: [], member: ['eng'], stakeholder: [] },
        defaultRole: 'stakeholder',
        signup: true,
        emailVerifiedClaim: 'email_verified',
        emailDomains: ['acme.example'],
      },
      lanesUrl,
    );
    const { app } = createServer(ctx, {
      bodyLimit: 1024 * 1024,
      version: 'e2e',
      webRoot: join(import.meta.dirname, '..', '..', 'web', 'dist'),
      publicUrl: lanesUrl,
      signIn: { passwordLogin: false, oidc },
    });
    await app.listen({ port: Number(new URL(lanesUrl).port), host: '127.0.0.1' });
    browser = await launchChromium();
    close = async () => {
      await browser.close();
      await app.close();
      await idp.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    };
  });
  afterAll(async () => {
    await close?.();
  });

  it('signs in through the provider, comes back to the page asked for, and signs out of both', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, baseURL: lanesUrl });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto('/portal');
    await page.waitForURL(/\/login\?next=%2Fportal$/);
    const button = page.getByRole('link', { name: 'Sign in with Acme SSO' });
    await button.waitFor();
    // Passwords are off here: no form to type one into.
    expect(await page.getByLabel('Password').count()).toBe(0);
    await screenshot(page, 'sso-login');
    await button.click();
    await page.getByLabel('Account').fill('ana');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('signed-in-user').waitFor({ state: 'attached' });
    expect(new URL(page.url()).pathname).toBe('/portal');
    expect(await page.getByTestId('signed-in-user').textContent()).toContain('Ana Lima');

    await page.getByRole('button', { name: 'Log out' }).click();
    // The provider asks to confirm its own sign-out, then sends the browser back to Lanes' login page.
    await page.waitForURL((url) => url.origin === idp.url);
    await page.locator('button[autofocus], button[type=submit]').first().click();
    await page.waitForURL(`${lanesUrl}/login`);
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).waitFor();
    await context.close();
  });

  it('explains a refused sign-in in a sentence, without a raw code', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, baseURL: lanesUrl });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto('/login');
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    await page.getByLabel('Account').fill('eve');
    await page.getByRole('button', { name: 'Continue' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Acme SSO did not confirm an e-mail address/);
    expect(await page.locator('body').textContent()).not.toMatch(/LANES_/);
    await screenshot(page, 'sso-refused');
    await context.close();
  });
});
