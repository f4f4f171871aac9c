/** Seed of the held-out split; changing it would reshuffle the split, so it never changes. */
const SEED = 'lanes-real-v1:';

/** 32-bit FNV-1a over the UTF-8 bytes of a string. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
};

/**
 * The split of a real comment, fixed by a seeded hash of its id: 40 % of the
 * ids are held out. Tuning looks only at `tune`; `heldout` is scored, never read.
 */
export const realSplitOf = (id: string): 'tune' | 'heldout' => (fnv1a(`${SEED}${id}`) % 100 < 40 ? 'heldout' : 'tune');
