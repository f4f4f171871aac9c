import pg from 'pg';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
await c.connect();
const r = await c.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mc\\_%'`);
for (const { nspname } of r.rows) { await c.query(`DROP SCHEMA ${nspname} CASCADE`); console.log('dropped', nspname); }
const d = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'lanes_bench_stream%'`);
for (const { datname } of d.rows) { await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`); console.log('dropped', datname); }
await c.end();
