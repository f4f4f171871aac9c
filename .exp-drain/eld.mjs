import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
const h = monitorEventLoopDelay({ resolution: 2 });
h.enable();
await new Promise((r) => setTimeout(r, 50));
for (const ms of [5, 20, 50]) {
  await nextTurn();
  h.reset();
  const t = performance.now(); while (performance.now() - t < ms);
  const a = h.max / 1e6;
  await nextTurn();
  const b = h.max / 1e6;
  await new Promise((r) => setTimeout(r, 5));
  console.log(ms, 'right after', a, 'after a turn', b, 'after a timer', h.max / 1e6, 'count', h.count);
}
