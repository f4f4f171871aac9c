/**
 * `npm run eval`: scores the middleman-load comment classifier on two labelled
 * sets and writes the figures to `eval/results/middleman.json`:
 *
 * - the written set, `eval/middleman/comments.jsonl` (380 comments written for
 *   this project; splits `train` and `heldout`);
 * - the real set, `eval/middleman/real/comments.jsonl` (comments from public
 *   GitHub trackers, labelled by hand before the classifier was run on them;
 *   splits `tune` and `heldout`, fixed by a seeded hash of the comment id).
 *
 * Exits 1 when held-out precision or recall of `status_ping` or `status_relay`
 * falls below the 0.85 target on either set (issues 5 and 16). Held-out
 * misses are written to the results file; the console lists them only with
 * `--show-heldout`, so that tuning looks at the tune splits alone
 * (`--tune-only` also hides the held-out figures).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import {
  classifyComment,
  type ClassifyCommentInput,
  type CommentClassification,
  type MiddlemanLabel,
} from '../src/domain/middleman.classify.js';
import { realSplitOf } from './middleman/real/split.js';

interface LabelledComment {
  id: string;
  input: ClassifyCommentInput;
  label: MiddlemanLabel;
  split: string;
  text: string;
}

interface LabelScore {
  precision: number;
  recall: number;
  support: number;
}

interface Miss {
  id: string;
  expected: MiddlemanLabel;
  predicted: MiddlemanLabel;
  cue: string;
  evidence: string | null;
  text: string;
}

interface SplitReport {
  size: number;
  accuracy: number;
  perLabel: Record<'status_ping' | 'status_relay', LabelScore>;
  /** Micro-averaged over the two positive labels. */
  overall: { precision: number; recall: number };
  /** confusion[expected][predicted] */
  confusion: Record<MiddlemanLabel, Record<MiddlemanLabel, number>>;
  misclassified: Miss[];
}

const LABELS: MiddlemanLabel[] = ['status_ping', 'status_relay', 'other'];
const POSITIVE = ['status_ping', 'status_relay'] as const;
const TARGET = 0.85;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const writtenPath = 'eval/middleman/comments.jsonl';
const realPath = 'eval/middleman/real/comments.jsonl';
const resultPath = join(root, 'eval/results/middleman.json');

const round = (value: number): number => Math.round(value * 1000) / 1000;
const ratio = (num: number, den: number): number => (den === 0 ? 1 : round(num / den));

const readLines = (path: string): Record<string, unknown>[] =>
  readFileSync(join(root, path), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const loadWritten = (): LabelledComment[] =>
  readLines(writtenPath).map((row) => ({
    id: String(row.id),
    input: {
      text: String(row.text),
      authorRole: row.authorRole as ClassifyCommentInput['authorRole'],
      itemKind: row.itemKind as ClassifyCommentInput['itemKind'],
    },
    label: row.label as MiddlemanLabel,
    split: String(row.split),
    text: String(row.text),
  }));

/** Real comments carry no charter role: the classifier gets GitHub's author association, as a connector would. */
const loadReal = (): LabelledComment[] =>
  readLines(realPath).map((row) => {
    const id = String(row.id);
    if (row.split !== realSplitOf(id))
      throw new Error(`${realPath}: ${id} is in split ${String(row.split)}, its hash says ${realSplitOf(id)}`);
    const association = typeof row.association === 'string' ? row.association : undefined;
    return {
      id,
      input: {
        text: String(row.text),
        authorRole: 'unknown',
        ...(association ? { authorAssociation: association as ClassifyCommentInput['authorAssociation'] } : {}),
      },
      label: row.label as MiddlemanLabel,
      split: String(row.split),
      text: String(row.text),
    };
  });

const emptyConfusion = (): SplitReport['confusion'] =>
  Object.fromEntries(
    LABELS.map((expected) => [expected, Object.fromEntries(LABELS.map((predicted) => [predicted, 0]))]),
  ) as SplitReport['confusion'];

const scoreLabel = (confusion: SplitReport['confusion'], label: MiddlemanLabel) => {
  const truePositive = confusion[label][label];
  const predicted = LABELS.reduce((sum, expected) => sum + confusion[expected][label], 0);
  const actual = LABELS.reduce((sum, predictedLabel) => sum + confusion[label][predictedLabel], 0);
  return { truePositive, predicted, actual };
};

const scoreSplit = (comments: LabelledComment[]): SplitReport => {
  const confusion = emptyConfusion();
  const misclassified: Miss[] = [];
  for (const comment of comments) {
    const result: CommentClassification = classifyComment(comment.input);
    confusion[comment.label][result.label] += 1;
    if (result.label !== comment.label) {
      const text = comment.text.length > 300 ? `${comment.text.slice(0, 300)}…` : comment.text;
      misclassified.push({
        id: comment.id,
        expected: comment.label,
        predicted: result.label,
        cue: result.cue,
        evidence: result.evidence,
        text,
      });
    }
  }
  const perLabel = Object.fromEntries(
    POSITIVE.map((label) => {
      const { truePositive, predicted, actual } = scoreLabel(confusion, label);
      return [
        label,
        { precision: ratio(truePositive, predicted), recall: ratio(truePositive, actual), support: actual },
      ];
    }),
  ) as SplitReport['perLabel'];
  const totals = POSITIVE.map((label) => scoreLabel(confusion, label)).reduce(
    (sum, c) => ({
      truePositive: sum.truePositive + c.truePositive,
      predicted: sum.predicted + c.predicted,
      actual: sum.actual + c.actual,
    }),
    { truePositive: 0, predicted: 0, actual: 0 },
  );
  const correct = LABELS.reduce((sum, label) => sum + confusion[label][label], 0);
  return {
    size: comments.length,
    accuracy: ratio(correct, comments.length),
    perLabel,
    overall: {
      precision: ratio(totals.truePositive, totals.predicted),
      recall: ratio(totals.truePositive, totals.actual),
    },
    confusion,
    misclassified,
  };
};

const cell = (value: number | string, width: number): string => String(value).padStart(width);

const printTable = (rows: { set: string; split: string; report: SplitReport }[]): void => {
  console.log('set      split     size  ping P  ping R  (n)  relay P  relay R  (n)  accuracy');
  for (const { set, split, report } of rows) {
    const ping = report.perLabel.status_ping;
    const relay = report.perLabel.status_relay;
    console.log(
      `${set.padEnd(8)} ${split.padEnd(8)} ${cell(report.size, 5)}  ${cell(ping.precision, 6)}  ${cell(ping.recall, 6)} ${cell(ping.support, 4)}  ${cell(relay.precision, 7)}  ${cell(relay.recall, 7)} ${cell(relay.support, 4)}  ${cell(report.accuracy, 8)}`,
    );
  }
};

const printMisses = (title: string, misses: Miss[]): void => {
  console.log(`\n${title} (${misses.length})`);
  for (const miss of misses) {
    console.log(
      `  ${miss.id}  expected ${miss.expected}, got ${miss.predicted} [${miss.cue}${miss.evidence ? `: ${miss.evidence}` : ''}]: ${JSON.stringify(miss.text)}`,
    );
  }
};

const failuresOf = (set: string, report: SplitReport): string[] =>
  POSITIVE.flatMap((label) =>
    (['precision', 'recall'] as const)
      .filter((metric) => report.perLabel[label][metric] < TARGET)
      .map((metric) => `${set} ${label} ${metric} ${report.perLabel[label][metric]} < ${TARGET}`),
  );

const writeResults = async (results: unknown): Promise<void> => {
  mkdirSync(dirname(resultPath), { recursive: true });
  // Formatted with the repository's prettier settings so `npm run format:check` stays clean.
  const options = (await resolveConfig(resultPath)) ?? {};
  writeFileSync(resultPath, await format(JSON.stringify(results), { ...options, filepath: resultPath }));
  console.log(`\nwrote ${resultPath.slice(root.length + 1)}`);
};

const main = async (): Promise<number> => {
  const written = loadWritten();
  const real = loadReal();
  const splits = {
    written: {
      train: scoreSplit(written.filter((c) => c.split === 'train')),
      heldout: scoreSplit(written.filter((c) => c.split === 'heldout')),
    },
    real: {
      tune: scoreSplit(real.filter((c) => c.split === 'tune')),
      heldout: scoreSplit(real.filter((c) => c.split === 'heldout')),
    },
  };
  // `--tune-only` hides the held-out figures while cues are being worked on.
  const tuneOnly = process.argv.includes('--tune-only');
  printTable([
    { set: 'written', split: 'train', report: splits.written.train },
    ...(tuneOnly ? [] : [{ set: 'written', split: 'heldout', report: splits.written.heldout }]),
    { set: 'real', split: 'tune', report: splits.real.tune },
    ...(tuneOnly ? [] : [{ set: 'real', split: 'heldout', report: splits.real.heldout }]),
  ]);
  printMisses('misclassified: real, tune split', splits.real.tune.misclassified);
  printMisses('misclassified: written, train split', splits.written.train.misclassified);
  if (process.argv.includes('--show-heldout')) {
    printMisses('misclassified: real, held out', splits.real.heldout.misclassified);
    printMisses('misclassified: written, held out', splits.written.heldout.misclassified);
  }

  if (tuneOnly) return 0;
  const failures = [...failuresOf('written', splits.written.heldout), ...failuresOf('real', splits.real.heldout)];
  await writeResults({
    classifier: 'src/domain/middleman.classify.ts',
    datasets: { written: writtenPath, real: realPath },
    target: TARGET,
    passed: failures.length === 0,
    ...splits,
  });
  if (failures.length > 0) {
    console.error(`\nheld-out below target: ${failures.join('; ')}`);
    return 1;
  }
  console.log(`\nheld-out precision and recall are at or above ${TARGET} for both labels on both sets`);
  return 0;
};

process.exitCode = await main();
