import { resolveRights, type RightsHolder, type RightsPerson, type TeamRights } from './charter.rights.js';
import type { Charter } from './charter.schema.js';
import { mergeDomains, type ResolvedDomain } from './charter.validate.js';

/**
 * `lanes who-decides "<question>"`: routes a free-text question to a decision
 * domain and answers with the owners per team. Matching is deliberately simple
 * and explainable — words, light stemming, keyword phrases — so a wrong answer
 * can be fixed by adding keywords to the domain in lanes.yaml.
 */

export interface DomainSummary {
  id: string;
  title: string;
  question: string;
}

export interface WhoDecidesAnswer {
  question: string;
  matched: { domain: DomainSummary; score: number } | null;
  /** The three best-scoring domains, best first (also when nothing matched). */
  closest: DomainSummary[];
  /** The rights of the matched domain in every team; empty when nothing matched. */
  perTeam: TeamRights[];
}

/** The lowest score that counts as a match: one keyword, or a title word and a question word. */
export const MIN_MATCH_SCORE = 3;

const WEIGHT = { keyword: 3, title: 2, question: 1, phraseBonus: 2 } as const;

/** Light stemming so "bugs", "prioritising" and "prioritized" meet "bug" and "prioritize". */
export const stem = (word: string): string => {
  let w = word.replace(/is(e|es|ed|ing|ation|ations)$/, 'iz$1'); // British -ise → -ize
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  // "setting" → "sett" → "set", "planned" → "plann" → "plan"
  if (w.length > 3 && w.at(-1) === w.at(-2) && !/[lsz]/.test(w.at(-1) ?? '')) w = w.slice(0, -1);
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
};

/** Lower-cased words without punctuation, stemmed; stop words kept (phrases need them). */
export const tokenize = (text: string): string[] =>
  text
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .split(' ')
    .filter((w) => w !== '')
    .map(stem);

// Words that say nothing about *which* decision: question words, auxiliaries and
// the many ways of saying "decide".
const STOP_WORDS = new Set(
  `a an the of on in to for about at by with from into and or but not no yes if then than so
   who whom whose what which when where why how whats whos
   is are was were be been being am do does did doing done has have had having
   will would should shall can could may might must ought need needs
   i me my mine we us our ours you your yours they them their he him his she her it its
   this that these those there here any some all each every one ones
   get gets got getting make makes made making call calls called gets
   decide decides decided deciding decision decisions decider choose chooses chose choosing
   pick picks picked picking set sets setting own owns owned owner responsible accountable
   allowed permitted say says final word call lanes team teams please someone anyone person people`
    .split(/\s+/)
    .filter((w) => w !== '')
    .map(stem),
);

interface DomainMatcher {
  domain: ResolvedDomain;
  order: number;
  singles: Set<string>;
  phrases: string[][];
  titleWords: Set<string>;
  questionWords: Set<string>;
}

const content = (tokens: string[]): string[] => tokens.filter((t) => !STOP_WORDS.has(t));

const matcherFor = (domain: ResolvedDomain, order: number): DomainMatcher => {
  const singles = new Set<string>();
  const phrases: string[][] = [];
  for (const keyword of domain.keywords) {
    const tokens = tokenize(keyword);
    if (tokens.length === 1) {
      if (!STOP_WORDS.has(tokens[0]!)) singles.add(tokens[0]!);
    } else if (tokens.length > 1) phrases.push(tokens);
  }
  return {
    domain,
    order,
    singles,
    phrases,
    titleWords: new Set(content(tokenize(domain.title))),
    questionWords: new Set(content(tokenize(domain.question))),
  };
};

const containsRun = (tokens: string[], phrase: string[]): boolean => {
  for (let i = 0; i + phrase.length <= tokens.length; i++) {
    if (phrase.every((p, j) => tokens[i + j] === p)) return true;
  }
  return false;
};

/**
 * Each content word of the question scores once, by its best source: a keyword
 * (3), a title word (2) or a question word (1). A keyword phrase found word for
 * word adds a bonus, so "tech debt" beats a lone "tech". Scores therefore grow
 * with how much of the question a domain explains, not with its keyword count.
 */
const scoreQuestion = (m: DomainMatcher, tokens: string[]): number => {
  const phraseWords = new Set<string>();
  let score = 0;
  for (const phrase of m.phrases) {
    if (!containsRun(tokens, phrase)) continue;
    score += WEIGHT.phraseBonus * (phrase.length - 1);
    for (const word of content(phrase)) phraseWords.add(word);
  }
  for (const word of new Set(content(tokens))) {
    if (m.singles.has(word) || phraseWords.has(word)) score += WEIGHT.keyword;
    else if (m.titleWords.has(word)) score += WEIGHT.title;
    else if (m.questionWords.has(word)) score += WEIGHT.question;
  }
  return score;
};

const summary = (d: ResolvedDomain): DomainSummary => ({ id: d.id, title: d.title, question: d.question });

/** Routes `question` to a domain of the charter and collects its owners in every team. */
export const answerWhoDecides = (charter: Charter, question: string, now: Date): WhoDecidesAnswer => {
  const tokens = tokenize(question);
  const ranked = mergeDomains(charter)
    .map((domain, order) => {
      const matcher = matcherFor(domain, order);
      return { matcher, score: scoreQuestion(matcher, tokens) };
    })
    .sort((a, b) => b.score - a.score || a.matcher.order - b.matcher.order);
  const best = ranked[0];
  const closest = ranked.slice(0, 3).map((r) => summary(r.matcher.domain));
  if (!best || best.score < MIN_MATCH_SCORE) return { question, matched: null, closest, perTeam: [] };
  const rights = resolveRights(charter, now).domains.find((d) => d.id === best.matcher.domain.id);
  return {
    question,
    matched: { domain: summary(best.matcher.domain), score: best.score },
    closest,
    perTeam: rights?.teams ?? [],
  };
};

// ---------------------------------------------------------------------------
// Words

const MAX_NAMES = 4;

const roleLabel = (role: string): string => role.replace(/-/g, ' ');

const listPeople = (people: RightsPerson[], withRoles: boolean): string => {
  const names = people.slice(0, MAX_NAMES).map((p) => (withRoles ? `${p.name}, ${roleLabel(p.role)}` : p.name));
  const more = people.length - MAX_NAMES;
  const list = names.join(withRoles ? '; ' : ', ');
  return more > 0 ? `${list} and ${more} more` : list;
};

/** "engineering (Tom Lee, tech lead; Ana Ruiz, engineer)" or "Tom Lee (tech lead)" for a person. */
const describeHolder = (h: RightsHolder, withRoles: boolean): string => {
  if (h.kind === 'person') {
    const p = h.people[0];
    return p ? `${p.name} (${roleLabel(p.role)})` : h.name;
  }
  if (h.kind === 'unknown') return `${h.name} (not in the charter)`;
  return h.people.length > 0 ? `${h.name} (${listPeople(h.people, withRoles)})` : h.name;
};

const describeTeam = (t: TeamRights): string[] => {
  const decider = t.decider
    ? t.decider.kind === 'group' && t.decider.people.length === 0
      ? `${t.decider.name} decides (nobody in the charter has this role yet)`
      : `${describeHolder(t.decider, true)} decides`
    : 'nobody decides (run lanes check)';
  const parts = [decider];
  if (t.consulted.length > 0) parts.push(`consulted: ${t.consulted.map((h) => describeHolder(h, false)).join(', ')}`);
  if (t.informed.length > 0) parts.push(`informed: ${t.informed.map((h) => describeHolder(h, false)).join(', ')}`);
  const lines = [`  ${t.team.name}${t.overridden ? ' (team override)' : ''}: ${parts.join('; ')}.`];
  for (const d of t.delegations) {
    lines.push(
      `    Delegation in force: ${d.from.kind === 'group' ? d.from.name : describeHolder(d.from, false)} hands this to ${describeHolder(d.to, false)} until ${d.until} (${d.reason.replace(/\.$/, '')}).`,
    );
  }
  return lines;
};

/** The answer in plain words, several lines, ready to print. */
export const renderWhoDecides = (answer: WhoDecidesAnswer): string => {
  if (!answer.matched) {
    return [
      `No decision domain matches "${answer.question}".`,
      'Closest domains:',
      ...answer.closest.map((d) => `  ${d.id} — ${d.title}: ${d.question}`),
      'Ask with words from one of these, or add keywords to a domain under `domains` in lanes.yaml.',
    ].join('\n');
  }
  const { domain } = answer.matched;
  return [`${domain.id} — ${domain.title}: ${domain.question}`, ...answer.perTeam.flatMap(describeTeam)].join('\n');
};
