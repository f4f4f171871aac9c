import pg from 'pg';
import type { TestProject } from 'vitest/node';

/**
 * Creates one fresh PostgreSQL database for this test run and drops it at the
 * end, so runs never see each other's data. Under CI=true an unreachable
 * PostgreSQL fails the run; elsewhere its tests are skipped with a loud message.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

const adminUrl = process.env['LANES_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = `lanes_test_${Date.now().toString(36)}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    const message = `PostgreSQL is unreachable at ${adminUrl}: ${(error as Error).message}`;
    if (process.env['CI'] === 'true')
      throw new Error(`${message}. CI requires PostgreSQL; failing the run.`, { cause: error });
    process.stderr.write(
      `\n${'!'.repeat(78)}\n!! ${message}\n!! PostgreSQL tests are SKIPPED. Set LANES_TEST_PG_URL or start PostgreSQL.\n${'!'.repeat(78)}\n\n`,
    );
    project.provide('pgUrl', null);
    return async () => {};
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  project.provide('pgUrl', url.toString());
  return async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  };
}
