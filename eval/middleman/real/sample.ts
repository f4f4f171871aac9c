/**
 * How `eval/middleman/real/comments.jsonl` was drawn (run once, kept so the
 * sample can be audited and redrawn): `npx tsx eval/middleman/real/sample.ts
 * <dir of ../shared/data/external/comments-status-pings> > unlabelled.jsonl`.
 *
 * Strata, each drawn with a seeded generator and without repeats:
 * - `candidate`: every keyword-picked ping/relay candidate the data set ships
 *   (94 InEx-Bug, 19 CMU STRUDEL);
 * - `delivery`: 120 more comments using release, version, merge, waiting or
 *   status vocabulary (our own, broader word list);
 * - `lookalike`: 45 comments that look like pings or relays and usually are not:
 *   bot comments, commit or patch titles, review chatter (15 each);
 * - `random`: 120 InEx-Bug and 80 CMU comments drawn uniformly from the rest;
 * - `question`: 80 short comments with a question mark, not by members (drawn
 *   last, after a first round of labelling showed few pings);
 * - `status-question`: then every remaining comment under 600 characters with
 *   a question mark and a status word (update, progress, news, ETA, when,
 *   release, publish, fix, merge, plan, version): a census of that slice.
 *
 * Tests never run this; it reads data outside the project on purpose.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';

interface Row {
  id: string;
  source: 'inex-bug' | 'cmu-strudel';
  thread: string;
  association?: string;
  isItemAuthor?: boolean;
  position?: number;
  text: string;
  stratum?: string;
}

/** Mulberry32: a small seeded generator, so the draw is the same on every machine. */
const seeded = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const draw = <T>(rows: T[], count: number, random: () => number): T[] => {
  const copy = [...rows];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
};

const DELIVERY =
  /\b(?:releas\w*|publish\w*|land(?:ed|s)?|ship(?:ped|s)?|next (?:version|release|major|minor|patch|beta)|fixed (?:in|by|on|with)|resolved (?:in|by)|backport\w*|cherry-pick\w*|milestone|roadmap|eta|timeline|any (?:news|progress|updates?|plans?)|when (?:will|is|can)|still (?:an issue|broken|happening|occurring)|waiting (?:for|on)|bump|status|track(?:ing|ed)?|merged)\b/i;
const BOT = /greenkeeper|dependabot|renovate|codecov|coveralls|\bstale\b|automatically|I am a bot|\[bot\]/i;
const PATCH_TITLE =
  /^(?:fix|feat|chore|docs|add|remove|update|bump|refactor|revert)(?:\([^)]*\))?:?\s[^\n]{3,100}$|\(#\d+\)\s*$|^(?:closes|fixes|resolves) #\d+/i;
const REVIEW =
  /\b(?:lgtm|looks good|thanks for the (?:pr|pull request)|review(?:ed)?|approved?|rebase|squash|ci (?:is )?(?:green|failing)|tests? pass)/i;

const QUESTION = /\?/;
const STATUS_WORD = /\b(?:update|progress|news|eta|when|release|released|publish|fix(?:ed)?|merged?|plan|version)\b/i;

const loadInex = (dir: string): Row[] =>
  readFileSync(join(dir, 'inex_comments_flat.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const c = JSON.parse(line) as Record<string, unknown>;
      return {
        id: `inex-${String(c.comment_id)}`,
        source: 'inex-bug',
        thread: String(c.issue_url),
        association: String(c.author_association),
        isItemAuthor: c.is_issue_author === true,
        position: Number(c.index),
        text: String(c.body).replace(/\r\n/g, '\n'),
      };
    });

const loadCmu = (dir: string): Row[] =>
  (
    parse(readFileSync(join(dir, 'cmu-strudel-toxicity/train_comments.csv')), { columns: true }) as Record<
      string,
      string
    >[]
  ).map((c) => {
    const [repo, owner, issue, comment] = String(c._id).split('/');
    return {
      id: `cmu-${comment}`,
      source: 'cmu-strudel',
      thread: `https://github.com/${owner}/${repo}/issues/${issue}`,
      text: String(c.text).trim(),
    };
  });

const candidateIds = (dir: string): Set<string> => {
  const ids = new Set<string>();
  for (const line of readFileSync(join(dir, 'inex_ping_relay_candidates.jsonl'), 'utf8').split('\n')) {
    if (line.trim() !== '') ids.add(`inex-${String((JSON.parse(line) as { comment_id: number }).comment_id)}`);
  }
  for (const line of readFileSync(join(dir, 'cmu_ping_candidates.jsonl'), 'utf8').split('\n')) {
    if (line.trim() !== '') ids.add(`cmu-${String((JSON.parse(line) as { _id: string })._id).split('/')[3]}`);
  }
  return ids;
};

const main = (dir: string): void => {
  const random = seeded(20260516);
  const all = [...loadInex(dir), ...loadCmu(dir)];
  const taken = new Set<string>();
  const texts = new Set<string>();
  const out: Row[] = [];
  const take = (rows: Row[], stratum: string): void => {
    for (const row of rows) {
      const key = row.text.toLowerCase().replace(/\s+/g, ' ').trim();
      if (taken.has(row.id) || texts.has(key) || key === '') continue;
      taken.add(row.id);
      texts.add(key);
      out.push({ ...row, stratum });
    }
  };
  const free = (): Row[] => all.filter((row) => !taken.has(row.id));
  const candidates = candidateIds(dir);
  take(
    all.filter((row) => candidates.has(row.id)),
    'candidate',
  );
  take(
    draw(
      free().filter((row) => DELIVERY.test(row.text)),
      120,
      random,
    ),
    'delivery',
  );
  for (const pattern of [BOT, PATCH_TITLE, REVIEW]) {
    take(
      draw(
        free().filter((row) => pattern.test(row.text)),
        15,
        random,
      ),
      'lookalike',
    );
  }
  take(
    draw(
      free().filter((row) => row.source === 'inex-bug'),
      120,
      random,
    ),
    'random',
  );
  take(
    draw(
      free().filter((row) => row.source === 'cmu-strudel'),
      80,
      random,
    ),
    'random',
  );
  // Drawn last so that adding it left the earlier strata unchanged: short questions by people outside the
  // project (pings and the questions that look like them).
  take(
    draw(
      free().filter((row) => QUESTION.test(row.text) && row.text.length < 400 && row.association !== 'MEMBER'),
      80,
      random,
    ),
    'question',
  );
  // Then every remaining short question that uses status words: a census of that slice, not a draw.
  take(
    free().filter((row) => QUESTION.test(row.text) && row.text.length < 600 && STATUS_WORD.test(row.text)),
    'status-question',
  );
  for (const row of out) console.log(JSON.stringify(row));
};

main(process.argv[2] ?? '../shared/data/external/comments-status-pings');
