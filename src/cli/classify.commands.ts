import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { ROLES } from '../domain/charter.schema.js';
import { AppError } from '../domain/errors.js';
import { ITEM_KINDS } from '../domain/event.js';
import {
  AUTHOR_ASSOCIATIONS,
  classifyComment,
  type ClassifyCommentInput,
  type CommentClassification,
  type MiddlemanLabel,
} from '../domain/middleman.classify.js';
import { EXIT, type CliIo } from './io.js';

const LABELS = ['status_ping', 'status_relay', 'other'] as const;

/**
 * One line of the comments file. `role` is a charter role, `unknown`, or the
 * tracker's author association (GitHub's OWNER, MEMBER, ..., NONE); `label`,
 * when given, is the team's own label, and the command then reports agreement.
 */
const commentLine = z.strictObject({
  id: z.union([z.string(), z.number()]).optional(),
  text: z.string().trim().min(1, 'text: must be a non-empty string'),
  author: z.string().min(1, 'author: must be a non-empty string'),
  role: z.enum([...ROLES, 'unknown', ...AUTHOR_ASSOCIATIONS]).optional(),
  itemKind: z.enum(ITEM_KINDS).optional(),
  label: z.enum(LABELS).optional(),
});
type CommentLine = z.infer<typeof commentLine>;

/** A line that could not be read: its 1-based number, the stable code and what is wrong. */
export interface CommentLineError {
  line: number;
  code: 'LANES_COMMENT_INVALID';
  message: string;
}

/** A classified line. */
export interface ClassifiedComment extends CommentClassification {
  line: number;
  id?: string | number;
  author: string;
  expected?: MiddlemanLabel;
}

const zodMessage = (error: z.ZodError): string =>
  error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
      return issue.message.startsWith(`${path}:`) || path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');

/** Parse a JSONL comments file: the valid lines, and one error per invalid line. Blank lines are skipped. */
export const parseCommentLines = (
  text: string,
): { comments: (CommentLine & { line: number })[]; errors: CommentLineError[] } => {
  const comments: (CommentLine & { line: number })[] = [];
  const errors: CommentLineError[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      errors.push({ line, code: 'LANES_COMMENT_INVALID', message: `not JSON: ${(error as Error).message}` });
      return;
    }
    const parsed = commentLine.safeParse(json);
    if (parsed.success) comments.push({ ...parsed.data, line });
    else errors.push({ line, code: 'LANES_COMMENT_INVALID', message: zodMessage(parsed.error) });
  });
  return { comments, errors };
};

const inputOf = (comment: CommentLine): ClassifyCommentInput => {
  const role = comment.role;
  const association = (AUTHOR_ASSOCIATIONS as readonly string[]).includes(role ?? '');
  return {
    text: comment.text,
    ...(role === undefined || association
      ? { authorRole: 'unknown' as const }
      : { authorRole: role as ClassifyCommentInput['authorRole'] }),
    ...(association ? { authorAssociation: role as ClassifyCommentInput['authorAssociation'] } : {}),
    ...(comment.itemKind ? { itemKind: comment.itemKind } : {}),
  };
};

/** Precision and recall of the two signals against the team's own labels, over the lines that carry one. */
const agreementOf = (classified: ClassifiedComment[]) => {
  const labelled = classified.filter((c) => c.expected !== undefined);
  if (labelled.length === 0) return null;
  const score = (label: MiddlemanLabel) => {
    const hits = labelled.filter((c) => c.label === label && c.expected === label).length;
    const predicted = labelled.filter((c) => c.label === label).length;
    const actual = labelled.filter((c) => c.expected === label).length;
    const ratio = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 1000) / 1000);
    return { precision: ratio(hits, predicted), recall: ratio(hits, actual), support: actual };
  };
  return {
    labelled: labelled.length,
    agree: labelled.filter((c) => c.label === c.expected).length,
    status_ping: score('status_ping'),
    status_relay: score('status_relay'),
  };
};

const WORDS: Record<MiddlemanLabel, string> = {
  status_ping: 'status ping',
  status_relay: 'status relay',
  other: 'other',
};

const renderTable = (classified: ClassifiedComment[]): string => {
  const rows = classified.map((c) => [
    String(c.line),
    c.author,
    WORDS[c.label],
    c.evidence ? `${c.cue} ("${c.evidence}")` : c.cue,
    ...(classified.some((x) => x.expected)
      ? [c.expected ? (c.expected === c.label ? '✓' : `✗ ${WORDS[c.expected]}`) : '']
      : []),
  ]);
  const header = ['line', 'author', 'label', 'cue', ...(classified.some((x) => x.expected) ? ['your label'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
};

const renderSummary = (classified: ClassifiedComment[], agreement: ReturnType<typeof agreementOf>): string => {
  const count = (label: MiddlemanLabel) => classified.filter((c) => c.label === label).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [
    `${plural(classified.length, 'comment')}: ${plural(count('status_ping'), 'status ping')}, ${plural(count('status_relay'), 'status relay')}, ${count('other')} other.`,
  ];
  if (agreement) {
    const pr = (s: { precision: number | null; recall: number | null; support: number }) =>
      `precision ${s.precision ?? '–'}, recall ${s.recall ?? '–'} (${s.support} labelled)`;
    lines.push(
      `Against your labels (${agreement.agree} of ${agreement.labelled} agree): pings ${pr(agreement.status_ping)}; relays ${pr(agreement.status_relay)}.`,
    );
  }
  return lines.join('\n');
};

/** `lanes classify comments FILE.jsonl`: check the middleman classifier on a team's own comments. */
export const registerClassifyCommands = (program: Command, io: CliIo): void => {
  program
    .command('classify')
    .description("Try Lanes' classifiers on your own data")
    .command('comments <file>')
    .description(
      'Label each comment of a JSONL file ({ "text", "author", "role"?, "itemKind"?, "label"? } per line) as status ping, status relay or other, with the cue that decided it',
    )
    .option('--json', 'print JSON: every comment with its label, cue, evidence, confidence and reasons')
    .action(async (file: string, flags: { json?: boolean }) => {
      const path = resolve(io.cwd, file);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new AppError('LANES_COMMENT_INVALID', `cannot read ${file}: ${(error as Error).message}`);
      }
      const { comments, errors } = parseCommentLines(text);
      for (const error of errors) io.err(`${file}:${error.line} error ${error.code}: ${error.message}`);
      const classified: ClassifiedComment[] = comments.map((comment) => ({
        line: comment.line,
        ...(comment.id === undefined ? {} : { id: comment.id }),
        author: comment.author,
        ...(comment.label ? { expected: comment.label } : {}),
        ...classifyComment(inputOf(comment)),
      }));
      const agreement = agreementOf(classified);
      if (flags.json) {
        io.out(JSON.stringify({ comments: classified, agreement, errors }, null, 2));
      } else {
        if (classified.length > 0) io.out(renderTable(classified));
        io.out(renderSummary(classified, agreement));
      }
      io.exitCode = errors.length > 0 ? EXIT.invalid : EXIT.ok;
    });
};
