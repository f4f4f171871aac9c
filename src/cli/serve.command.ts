import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { createDeps, type AppDeps } from '../deps.js';
import { demoCharterYaml } from '../domain/demo/demo.charter.js';
import { AppError } from '../domain/errors.js';
import { formatIssues, loadCharterFile } from '../services/charter.service.js';
import { addUser, countUsers } from '../services/access.service.js';
import { loadDemo } from '../services/demo.service.js';
import { createOidcService } from '../services/oidc.service.js';
import { rebuildProjection } from '../services/events.service.js';
import { recomputeBoundariesIfStale } from '../services/boundaries.service.js';
import { ensurePortalIndex } from '../services/portal.index.js';
import { createEscalationMailer } from '../services/escalation.notify.js';
import { buildNotificationSenders, createNotifier } from '../services/notifications.service.js';
import { createQualityWorker } from '../services/quality.service.js';
import { applyCharterSlos } from '../services/slo.service.js';
import { activeWebhookProviders, createWebhookIntake } from '../services/webhooks.service.js';
import { countItems } from '../store/item.repository.js';
import { createServer } from '../server/server.js';
import { EXIT, type CliIo } from './io.js';
import { guardProcess } from './process.guard.js';

const VERSION = '0.1.0';
const DEMO_ADMIN = 'admin@acme.example';

interface ServeFlags {
  port?: string;
  host?: string;
  demo?: boolean;
  charter?: string;
  database?: string;
}

const configFrom = (io: CliIo, flags: ServeFlags): Readonly<Config> => {
  const base = loadConfig(io.env, io.cwd);
  const overrides: Partial<Config> = {};
  if (flags.port !== undefined) overrides.port = Number(flags.port);
  if (flags.host) overrides.host = flags.host;
  if (flags.database) overrides.databaseUrl = flags.database;
  if (flags.charter) overrides.charterPath = resolve(io.cwd, flags.charter);
  // The demo keeps its charter beside its database, away from a real lanes.yaml.
  else if (flags.demo && !io.env['LANES_CHARTER']) overrides.charterPath = join(base.dataDir, 'lanes.yaml');
  return loadConfig(io.env, io.cwd, overrides);
};

/** Loads the charter into deps; prints its issues; fails when it cannot be used. */
const applyCharter = async (deps: AppDeps, io: CliIo): Promise<void> => {
  const { loaded, issues } = await loadCharterFile(deps.config.charterPath, deps.clock());
  if (issues.length > 0) io.err(formatIssues(issues));
  if (!loaded)
    throw new AppError('LANES_CHARTER_INVALID', `${deps.config.charterPath} has errors; fix them and start again`);
  deps.setCharter(loaded);
};

/**
 * Runs the orderly stop — the listener closed, requests in flight answered,
 * background work ended — but for at most `timeoutMs` (`LANES_SHUTDOWN_TIMEOUT`);
 * past it, or at a second signal, the process exits with code 1. Cutting it
 * short loses nothing acknowledged: deliveries are committed before their 202,
 * and those not mapped yet stay pending and are mapped at the next start.
 */
const stopWithin = async (
  timeoutMs: number,
  signal: NodeJS.Signals,
  io: CliIo,
  stop: () => Promise<void>,
): Promise<void> => {
  const started = Date.now();
  io.err(`${signal}: stopping (at most ${timeoutMs / 1000} s, LANES_SHUTDOWN_TIMEOUT)…`);
  const exitNow = (why: string) => {
    io.err(`${why}: exiting now; webhook deliveries not mapped yet stay stored and are mapped at the next start.`);
    // The one place the CLI ends the process itself: whatever still runs must not hold the stop any longer.
    process.exit(EXIT.failure);
  };
  const timer = setTimeout(() => exitNow(`Stopping took longer than ${timeoutMs / 1000} s`), timeoutMs);
  const again = () => exitNow('Second signal');
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  try {
    await stop();
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
  }
  io.err(`Stopped in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
};

export const registerServeCommands = (program: Command, io: CliIo): void => {
  program
    .command('serve')
    .description('Run the Lanes server (web app and API on one port)')
    .option('-p, --port <port>', 'port to listen on (env LANES_PORT, default 5263)')
    .option('--host <host>', 'interface to listen on (env LANES_HOST, default 127.0.0.1)')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .option('--charter <file>', 'lanes.yaml to load (env LANES_CHARTER)')
    .option('--demo', 'on first start, generate and load the demo workspace')
    .action(async (flags: ServeFlags) => {
      const config = configFrom(io, flags);
      const deps = await createDeps(config);
      // The database going away must not end the process (docs/operations.md).
      const unguard = guardProcess(deps);
      try {
        if (flags.demo && !existsSync(config.charterPath)) {
          writeFileSync(config.charterPath, demoCharterYaml(42, deps.clock()));
          io.err(`Wrote the demo charter to ${config.charterPath}`);
        }
        await applyCharter(deps, io);
        if (flags.demo && (await countItems(deps.database)) === 0) {
          io.err('Loading the demo workspace (first start only)…');
          const started = Date.now();
          const result = await loadDemo(deps, { items: 5000, seed: 42, now: deps.clock() });
          io.err(
            `Loaded ${result.items} items and ${result.events} events in ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
        }
        if (deps.charter()?.charter.slos?.length) await applyCharterSlos(deps);
        const portal = await ensurePortalIndex(deps);
        if (portal === 'rebuilt') io.err('Built the status portal index from the event log.');
        // Judgements made under another charter (or none yet) are redone before the server answers.
        const recomputed = await recomputeBoundariesIfStale(deps);
        if (recomputed)
          io.err(
            `Held ${recomputed.events} events against the charter: ${recomputed.decisions} decisions, ${recomputed.crossings} crossings (${(recomputed.ms / 1000).toFixed(1)} s)`,
          );
      } catch (error) {
        await deps.close();
        unguard();
        throw error;
      }
      let demoLogin: string | undefined;
      if (flags.demo && (await countUsers(deps)) === 0) {
        const password = randomBytes(12).toString('base64url');
        await addUser(deps, { kind: 'cli' }, { email: DEMO_ADMIN, name: 'Demo admin', role: 'admin', password });
        demoLogin = `Sign in as ${DEMO_ADMIN} with password ${password}  (shown once; add users with \`lanes user add\`)`;
      }
      const webRoot = join(import.meta.dirname, '..', '..', 'web', 'dist');
      const intake = createWebhookIntake(deps, config.secrets);
      const activeHooks = activeWebhookProviders(config.secrets);
      const { app } = createServer(deps, {
        webhooks: {
          intake,
          bodyLimit: config.webhookBodyLimit,
          active: activeHooks,
          pendingBytes: config.webhookPendingBytes,
        },
        bodyLimit: config.bodyLimit,
        version: VERSION,
        webRoot: existsSync(join(webRoot, 'index.html')) ? webRoot : undefined,
        publicUrl: config.publicUrl,
        slackSigningSecret: config.secrets.LANES_SLACK_SIGNING_SECRET,
        trustProxy: config.trustProxy,
        signIn: {
          passwordLogin: config.signIn.passwordLogin,
          oidc: config.signIn.oidc ? createOidcService(deps, config.signIn.oidc, config.publicUrl) : undefined,
        },
        outboundAllow: config.outboundAllow,
        reloadCharter: async () => {
          const { loaded, issues } = await loadCharterFile(config.charterPath, deps.clock());
          if (!loaded) throw new AppError('LANES_CHARTER_INVALID', formatIssues(issues), { issues });
          deps.setCharter(loaded);
          // A changed charter changes every judgement: redo them in the background; reports say when they are stale.
          recomputeBoundariesIfStale(deps)
            .then(() => ensurePortalIndex(deps))
            .then(() => (loaded.charter.slos?.length ? applyCharterSlos(deps) : undefined))
            .catch((error: unknown) =>
              deps.logger.error({ err: error }, 'recomputing boundaries and the portal after a charter reload failed'),
            );
          return { issues: issues.length };
        },
      });
      const address = await app.listen({ port: config.port, host: config.host });
      io.out(
        `Lanes is running at ${address.replace('127.0.0.1', 'localhost')}  (database: ${deps.database.engine}, charter: ${config.charterPath})`,
      );
      if (demoLogin) io.out(demoLogin);
      if (activeHooks.length > 0) io.out(`Webhooks: ${activeHooks.map((p) => `/hooks/${p}`).join(', ')}`);
      // Stage changes become notifications (e-mail, Slack, webhooks) in the background; safe with several instances.
      const senders = buildNotificationSenders(config.secrets, {
        publicUrl: config.publicUrl,
        outboundAllow: config.outboundAllow,
      });
      const notifier = createNotifier(deps, senders, { publicUrl: config.publicUrl });
      notifier.start();
      // Escalations opened or reopened are e-mailed to engineering leadership with the same sender.
      const escalationMailer = createEscalationMailer(deps, senders, { publicUrl: config.publicUrl });
      escalationMailer.start();
      // Quality signals and findings: computed whole now, then kept current as events arrive.
      const quality = createQualityWorker(deps);
      quality.start();
      // Deliveries stored before a restart but not yet mapped.
      intake.drain().catch((error: unknown) => {
        if (!deps.database.health.recognise(error))
          deps.logger.error({ err: error }, 'mapping stored deliveries failed');
      });
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      await stopWithin(config.shutdownTimeoutMs, signal, io, async () => {
        await app.close();
        // Before the notifier: closing it closes the senders both use.
        await escalationMailer.close();
        await notifier.close();
        await quality.close();
        await intake.close();
        await deps.close();
        unguard();
      });
    });

  program
    .command('rebuild')
    .description('Rebuild the item projection from the event log')
    .option('--database <url>', 'postgres://… URL or SQLite file (env LANES_DATABASE_URL)')
    .action(async (flags: { database?: string }) => {
      const config = configFrom(io, flags);
      const deps = await createDeps(config);
      try {
        const started = Date.now();
        const result = await rebuildProjection(deps);
        io.out(
          `Rebuilt ${result.items} items from ${result.events} events in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        io.exitCode = EXIT.ok;
      } finally {
        await deps.close();
      }
    });
};
