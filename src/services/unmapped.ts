import type { UnmappedSink } from '../connectors/connector.types.js';
import type { UnmappedCategory } from '../domain/connector.mapping.js';

/** Counts unmapped values in memory, so one batch writes each value once. */
export class UnmappedTally {
  private readonly counts = new Map<string, { source: string; category: string; value: string; count: number }>();

  add(source: string, category: UnmappedCategory, value: string): void {
    const key = `${source}\u0001${category}\u0001${value}`;
    const entry = this.counts.get(key);
    if (entry) entry.count += 1;
    else this.counts.set(key, { source, category, value, count: 1 });
  }

  sink(source: string): UnmappedSink {
    return (category, value) => this.add(source, category, value);
  }

  entries(): { source: string; category: string; value: string; count: number }[] {
    return [...this.counts.values()];
  }

  clear(): void {
    this.counts.clear();
  }
}
