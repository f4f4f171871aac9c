import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { figure, writeResults, type Figure } from './bench.lib.js';

/**
 * The web benchmark (issue 3):
 *  1. the initial JavaScript of the built app (the scripts and modulepreloads
 *     index.html names), gzipped, against 250 KB;
 *  2. the time from navigation to the overview's numbers on screen, read from
 *     the browser's own clock (the `overview-ready` performance mark the app sets
 *     when they render), against 1.5 s, with the load of a blank page from the same
 *     server (`/healthz`) in the same browser as the floor.
 *
 * The server comes from the caller (`run(target)`), or from BENCH_WEB_URL,
 * BENCH_WEB_EMAIL and BENCH_WEB_PASSWORD for a server that is already running.
 */

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'web', 'dist');
const JS_TARGET_KB = 250;
const READY_TARGET_MS = 1500;
const RUNS = Number(process.env['BENCH_WEB_RUNS'] ?? 5);
const CHROMIUM_PATH = process.env['LANES_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface WebBenchTarget {
  /** Base URL of a Lanes server that serves web/dist, e.g. http://127.0.0.1:5263. */
  url: string;
  email: string;
  password: string;
  /** What the overview shows, for the figure's name (e.g. 1,000,000 items). */
  items?: number;
  close?: () => Promise<void>;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The JS a first visit downloads before anything renders: index.html's module scripts and modulepreloads. */
export const initialJsBytes = (dist = DIST): { files: string[]; raw: number; gzip: number } => {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const refs = new Set<string>();
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) {
    const src = /\bsrc="([^"]+)"/.exec(tag)?.[1];
    if (src) refs.add(src);
  }
  for (const tag of html.match(/<link\b[^>]*>/g) ?? []) {
    if (!/\brel="modulepreload"/.test(tag)) continue;
    const href = /\bhref="([^"]+)"/.exec(tag)?.[1];
    if (href) refs.add(href);
  }
  let raw = 0;
  let gzip = 0;
  const files = [...refs].filter((ref) => !/^[a-z]+:\/\//i.test(ref));
  for (const ref of files) {
    const body = readFileSync(join(dist, ref.replace(/^\//, '')));
    raw += body.length;
    gzip += gzipSync(body).length;
  }
  return { files, raw, gzip };
};

const ensureBuilt = (): void => {
  if (existsSync(join(DIST, 'index.html'))) return;
  console.error('web: building web/dist…');
  execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
};

const bundleFigure = (): Figure => {
  const { files, gzip } = initialJsBytes();
  const kb = gzip / 1024;
  console.error(`web: initial JS = ${files.join(', ')}`);
  return figure({
    name: 'web.initial_js_gzip',
    value: kb,
    unit: 'KB',
    floor: null,
    ratio: null,
    target: `<= ${JS_TARGET_KB} KB gzipped`,
    pass: kb <= JS_TARGET_KB,
  });
};

/**
 * One run per fresh browser profile (a first visit: nothing cached). The
 * connection is opened by an unmeasured /healthz load, then the floor (/healthz
 * again) and the overview are timed from their own navigation start.
 */
const measureOverview = async (browser: Browser, target: WebBenchTarget): Promise<{ ready: number; floor: number }> => {
  const context = await browser.newContext({ baseURL: target.url, viewport: { width: 1280, height: 860 } });
  try {
    const login = await context.request.post('/api/v1/session', {
      data: { email: target.email, password: target.password },
    });
    if (!login.ok()) throw new Error(`web: sign-in as ${target.email} failed: ${login.status()} ${await login.text()}`);
    const page = await context.newPage();
    await page.goto('/healthz', { waitUntil: 'load' });
    await page.goto('/healthz', { waitUntil: 'load' });
    const floor = await page.evaluate<number>('performance.getEntriesByType("navigation")[0].duration');
    await page.goto('/', { waitUntil: 'commit' });
    await page.waitForFunction(() => performance.getEntriesByName('overview-ready').length > 0, undefined, {
      timeout: 60_000,
    });
    const ready = await page.evaluate(() => performance.getEntriesByName('overview-ready')[0]!.startTime);
    if (!(await page.getByTestId('overview-ready').isVisible())) throw new Error('web: overview-ready is not visible');
    return { ready, floor };
  } finally {
    await context.close();
  }
};

const targetFromEnv = (): WebBenchTarget | null => {
  const url = process.env['BENCH_WEB_URL'];
  const email = process.env['BENCH_WEB_EMAIL'];
  const password = process.env['BENCH_WEB_PASSWORD'];
  return url && email && password ? { url, email, password } : null;
};

export const run = async (given?: WebBenchTarget | (() => Promise<WebBenchTarget>)): Promise<void> => {
  ensureBuilt();
  const figures: Figure[] = [bundleFigure()];
  const target = typeof given === 'function' ? await given() : (given ?? targetFromEnv());
  if (!target) {
    console.error(
      'web: no server to measure the overview against; pass one to run() or set BENCH_WEB_URL, BENCH_WEB_EMAIL and BENCH_WEB_PASSWORD',
    );
  } else {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      await measureOverview(browser, target); // warm the server (its caches, the JIT), not the browser
      const runs: { ready: number; floor: number }[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await measureOverview(browser, target));
      const ready = median(runs.map((r) => r.ready));
      const floor = median(runs.map((r) => r.floor));
      const items = target.items ? `${target.items.toLocaleString('en-US')} items, ` : '';
      figures.push(
        figure({
          name: 'web.overview_ready',
          value: ready,
          unit: 'ms',
          floor,
          ratio: floor / ready,
          target: `<= ${READY_TARGET_MS} ms from navigation (${items}median of ${RUNS} first visits; floor: blank page)`,
          pass: ready <= READY_TARGET_MS,
        }),
      );
    } finally {
      await browser.close();
      await target.close?.();
    }
  }
  writeResults('web', figures);
};
