import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A PostgreSQL database of a test's own, beside the run's database on the same
 * server, whose connections the test may cut without touching other tests':
 * terminate its backends, or refuse new connections to it for a while.
 */
export interface OwnDatabase {
  name: string;
  url: string;
  /** Terminates every backend connected to this database; returns how many there were. */
  terminate(): Promise<number>;
  /** New connections are refused and existing ones terminated, until `allowConnections`. */
  refuseConnections(): Promise<number>;
  allowConnections(): Promise<void>;
  drop(): Promise<void>;
}

export const createOwnDatabase = async (serverUrl: string, prefix = 'lanes_resilience'): Promise<OwnDatabase> => {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const terminate = async (): Promise<number> => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
    return rows.length;
  };
  return {
    name,
    url: url.toString(),
    terminate,
    refuseConnections: async () => {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      return terminate();
    },
    allowConnections: async () => {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
};
