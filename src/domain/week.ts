/**
 * Weeks as every report keys them: the Monday (UTC) of the ISO week, as
 * YYYY-MM-DD. One definition for the boundary monitor, the portal lookups and
 * every quality signal (DORA's deployment days use local calendar days on top).
 */

/** Monday (UTC) of the week holding an instant (ISO text, epoch milliseconds or a Date); an unreadable one is 1970's. */
export const weekOf = (at: string | number | Date): string => {
  const ms = typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : at.getTime();
  const day = new Date(Number.isNaN(ms) ? 0 : ms);
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() - sinceMonday))
    .toISOString()
    .slice(0, 10);
};

/** The instant (epoch milliseconds) a week starts. */
export const weekStart = (week: string): number => Date.parse(`${week}T00:00:00.000Z`);

/** The week `n` weeks after (or, negative, before) `week`. */
export const addWeeks = (week: string, n: number): string =>
  new Date(weekStart(week) + n * 7 * 86_400_000).toISOString().slice(0, 10);
