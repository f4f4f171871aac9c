import pg from 'pg';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
await c.connect();
const counts = new Map();
for (let i = 0; i < 40; i++) {
  const r = await c.query(`SELECT wait_event_type, wait_event, state, left(query, 60) q FROM pg_stat_activity WHERE datname LIKE 'lanes_bench_stream_exp%' AND state <> 'idle'`);
  for (const row of r.rows) { const k = `${row.wait_event_type}/${row.wait_event} ${row.state} ${row.q.replace(/\s+/g, ' ')}`; counts.set(k, (counts.get(k) ?? 0) + 1); }
  await new Promise((r) => setTimeout(r, 200));
}
console.log([...counts].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${v}\t${k}`).join('\n'));
await c.end();
