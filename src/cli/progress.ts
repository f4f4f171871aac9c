import type { StreamSummary, SyncProgress } from '../services/sync.service.js';
import type { CliIo } from './io.js';

const duration = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};

const n = (value: number): string => value.toLocaleString('en-US');

/**
 * Sync progress for people: on a terminal one redrawn line with a bar, counts
 * and an ETA; elsewhere (CI, a log file) plain lines at most every few seconds.
 * Rate-limit and retry waits are always said out loud.
 */
export const cliProgress = (io: CliIo, label: string, now: () => number = Date.now, everyMs = 2000): SyncProgress => {
  let started = now();
  let unit = 'items';
  let lastLine = 0;
  const tty = io.tty;

  const render = (stream: string, p: { units: number; total: number | undefined; events: number; stored: number }) => {
    const elapsed = now() - started;
    const rate = elapsed > 0 ? p.units / (elapsed / 1000) : 0;
    const eta =
      p.total !== undefined && rate > 0 && p.total > p.units ? duration(((p.total - p.units) / rate) * 1000) : null;
    const counts = `${n(p.units)}${p.total !== undefined ? `/${n(p.total)}` : ''} ${unit} · ${n(p.events)} events (${n(p.stored)} new)${eta ? ` · ETA ${eta}` : ''}`;
    if (tty) {
      const width = 24;
      const share = p.total ? Math.min(1, p.units / p.total) : 0;
      const bar = p.total ? `[${'#'.repeat(Math.round(share * width)).padEnd(width, '-')}] ` : '';
      tty.write(`\r\x1b[2K${label} ${stream} ${bar}${counts}`.slice(0, tty.columns + 8));
    } else if (now() - lastLine >= everyMs) {
      lastLine = now();
      io.err(`${label} ${stream}: ${counts}`);
    }
  };

  return {
    streamStarted(stream, streamUnit, resumed) {
      started = now();
      unit = streamUnit;
      lastLine = 0;
      const line = `${label} ${stream}: ${resumed ? 'resuming where the last run stopped' : 'starting'}`;
      if (tty) tty.write(`\r\x1b[2K${line}`);
      else io.err(line);
    },
    pageStored: render,
    streamFinished(stream: string, s: StreamSummary) {
      const line = `${label} ${stream}: ${s.completed ? 'done' : 'stopped (run again to resume)'}, ${n(s.units)} ${unit}, ${n(s.events)} events (${n(s.stored)} new, ${n(s.duplicates)} already stored${s.invalid ? `, ${n(s.invalid)} left out as invalid (see lanes sources)` : ''}) in ${duration(now() - started)}`;
      if (tty) tty.write(`\r\x1b[2K${line}\n`);
      else io.err(line);
    },
    waiting(reason, ms) {
      const line = `${label}: ${reason} (until ${new Date(Date.now() + ms).toISOString().slice(11, 19)} UTC)`;
      if (tty) tty.write(`\r\x1b[2K${line}`);
      else io.err(line);
    },
  };
};
