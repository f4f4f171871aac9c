/**
 * Text preparation for the middleman comment classifier
 * (`middleman.classify.ts`): what a comment *says*, as opposed to what it
 * quotes, pastes or links. Pure.
 */

/** One sentence of prose; `question` when it ends with a question mark. */
export interface Sentence {
  text: string;
  question: boolean;
}

export interface PreparedComment {
  /** Normalised prose: lower case, diacritics folded, code, quotes and pasted titles removed, links as tokens. */
  prose: string;
  sentences: Sentence[];
  /** What was taken out, for the explanation (`quoted reply`, `code`, `patch title`, ...). */
  removed: string[];
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ' };

/** Lower case, fold diacritics, typographic punctuation and HTML entities. */
export const normaliseText = (text: string): string =>
  text
    .replace(/&(lt|gt|amp|quot|apos|nbsp);/g, (_, name: string) => ENTITIES[name] ?? ' ')
    .replace(/&#\d+;/g, ' ')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019\u00b4]/g, "'")
    .replace(/[\u201c\u201d\u00ab\u00bb\u201e]/g, '"')
    .replace(/\uff1f/g, '?')
    .replace(/\r\n?/g, '\n')
    .toLowerCase();

/** A link says where, not what: keep its kind as a token (`prlink`, `commitlink`, `issuelink`, `releaselink`, `link`). */
const linkToken = (url: string): string => {
  if (/\/pull\/\d+|\/merge_requests\/\d+|phabricator|\/d\d+\b|reviews?\./.test(url)) return ' prlink ';
  if (/\/commit\/|\/rev\/|\/changeset\//.test(url)) return ' commitlink ';
  if (/\/releases\/|\/tags?\//.test(url)) return ' releaselink ';
  if (/\/issues\/\d+|show_bug\.cgi|\/browse\/[a-z]+-\d+|bugs?\.|crbug/.test(url)) return ' issuelink ';
  return ' link ';
};

/**
 * A line that is a commit or patch title pasted into a comment ("Bug 1234 - Fix
 * the ETA. r=sam", "fix(api): handle empty updates (#42)"): it names a change,
 * it does not ask or tell anything.
 */
const PATCH_TITLE_LINE =
  /^\s*(?:(?:comment on )?attachment \d+\b.*|bug \d+\s*[-:].*|(?:fix|feat|chore|docs|refactor|perf|test|build|ci|revert)(?:\([^)]*\))?!?:\s.*|.*\s(?:r|sr|a)[=?][\w.,-]+\s*$|.*\(#\d+\)\s*$|(?:merge pull request|merged? branch) .*|differential revision:.*|pushed by \S+:.*)$/;

const INLINE_VERSION = /^(?:v?\d+(?:\.\d+)+[\w.-]*|[\w@/.-]+@\d[\w.-]*)$/;

const EMAIL_TAIL =
  /(?:^|\n|\s)(?:on (?:mon|tue|wed|thu|fri|sat|sun|\d)[^\n]{0,120}?wrote:?|le [^\n]{0,80}?a ecrit ?:?|-{2,} ?you are receiving this because|you are receiving this because)[\s\S]*$/;

/** Keep the lines `keep` accepts. */
const keepLines = (text: string, keep: (line: string) => boolean): string => text.split('\n').filter(keep).join('\n');

/**
 * Remove what is mentioned rather than said, recording what was removed. Each
 * step runs only when its marker character is there: most comments are short.
 */
const stripMentions = (text: string, removed: string[]): string => {
  const note = (what: string, before: string, after: string): string => {
    if (before !== after && !removed.includes(what)) removed.push(what);
    return after;
  };
  let out = text;
  if (out.includes('`')) {
    // Inline code that is a version ("fixed in `2.1.1`") is kept: it says where the fix is.
    const code = out
      .replace(/```[\s\S]*?(?:```|$)/g, ' ')
      .replace(/`([^`\n]*)`/g, (_, inline: string) => (INLINE_VERSION.test(inline) ? ` ${inline} ` : ' code '));
    out = note('code', out, code);
  }
  if (/wrote|ecrit|receiving/.test(out)) out = note('quoted reply', out, out.replace(EMAIL_TAIL, ' '));
  if (out.includes('>'))
    out = note(
      'quoted text',
      out,
      keepLines(out, (line) => !/^\s*>/.test(line)),
    );
  if (out.includes(' at ')) {
    out = note(
      'stack trace',
      out,
      keepLines(out, (line) => !/^\s+at\s+\S+\s*\(/.test(line)),
    );
  }
  out = note(
    'patch title',
    out,
    keepLines(out, (line) => !PATCH_TITLE_LINE.test(line)),
  );
  if (out.includes('http') || out.includes('](')) {
    out = out
      .replace(/!\[[^\]]*\]\([^)]*\)/g, ' ')
      .replace(/\[([^\]]*)\]\((\S+?)\)/g, (_, label: string, url: string) => ` ${label} ${linkToken(url)} `)
      .replace(/<?https?:\/\/[^\s)>\]]+>?/g, (url) => linkToken(url));
  }
  if (out.includes("'")) out = out.replace(/'[^'\n]*'(?=\s*[;,)])/g, ' ');
  if (out.includes('"')) out = note('quoted phrase', out, out.replace(/"[^"\n]*"/g, ' '));
  if (out.includes('@')) out = out.replace(/(?<![\w.-])@[\w-]+(?:\/[\w-]+)?/g, ' @someone ');
  return out.replace(/[ \t]+/g, ' ').trim();
};

/** Split prose into sentences at `.`, `!`, `?` followed by space, and at line breaks. */
const sentencesOf = (prose: string): Sentence[] =>
  prose
    .split(/(?<=[.!?])\s+|\n+/)
    .map((text) => text.trim())
    .filter((text) => /[a-z0-9]/.test(text))
    .map((text) => ({ text, question: /\?\W*$/.test(text) }));

/** Prepare a comment for the cues: normalise, strip what is mentioned, split into sentences. */
export const prepareComment = (text: string): PreparedComment => {
  const removed: string[] = [];
  const prose = stripMentions(normaliseText(text), removed);
  return { prose, sentences: sentencesOf(prose), removed };
};
