/**
 * `npm run bench` runs every benchmark; `npm run bench -- ingest` runs one.
 * Each writes bench/results/<name>.json and prints a table with the ratio to a
 * floor measured in the same run.
 */
const BENCHES: Record<string, () => Promise<void>> = {
  ingest: async () => (await import('./ingest.bench.js')).run(),
  api: async () => (await import('./api.bench.js')).run(),
  webhooks: async () => (await import('./webhooks.bench.js')).run(),
  'webhooks-stream': async () => (await import('./webhooks.stream.bench.js')).run(),
  flood: async () => (await import('./flood.bench.js')).run(),
  backfill: async () => (await import('./backfill.bench.js')).run(),
  boundaries: async () => (await import('./boundaries.bench.js')).run(),
  portal: async () => (await import('./portal.bench.js')).run(),
  quality: async () => (await import('./quality.bench.js')).run(),
  fanout: async () => (await import('./fanout.bench.js')).run(),
  web: async () => {
    const { startBenchServer, BENCH_LOGIN, BENCH_ITEMS } = await import('./api.bench.js');
    const { run } = await import('./web.bench.js');
    await run(async () => {
      const server = await startBenchServer();
      return { url: server.url, ...BENCH_LOGIN, items: BENCH_ITEMS, close: server.close };
    });
  },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(BENCHES);
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  await bench();
}
