/**
 * `npm run eval`: scores the middleman-load comment classifier against the
 * labelled set in `eval/middleman/comments.jsonl` and writes the figures to
 * `eval/results/middleman.json`. Exits 1 when held-out precision or recall of
 * `status_ping` or `status_relay` falls below the 0.85 target (issue 5).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { classifyComment, type MiddlemanLabel } from '../src/domain/middleman.classify.js';
import type { Role } from '../src/domain/charter.schema.js';
import type { ItemKind } from '../src/domain/event.js';

interface LabelledComment {
  id: string;
  text: string;
  authorRole: Role | 'unknown';
  itemKind: ItemKind;
  label: MiddlemanLabel;
  split: 'train' | 'heldout';
}

interface LabelScore {
  precision: number;
  recall: number;
  support: number;
}

interface SplitReport {
  size: number;
  accuracy: number;
  perLabel: Record<'status_ping' | 'status_relay', LabelScore>;
  /** Micro-averaged over the two positive labels. */
  overall: { precision: number; recall: number };
  /** confusion[expected][predicted] */
  confusion: Record<MiddlemanLabel, Record<MiddlemanLabel, number>>;
  misclassified: { id: string; expected: MiddlemanLabel; predicted: MiddlemanLabel; text: string }[];
}

const LABELS: MiddlemanLabel[] = ['status_ping', 'status_relay', 'other'];
const POSITIVE = ['status_ping', 'status_relay'] as const;
const TARGET = 0.85;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const setPath = join(root, 'eval/middleman/comments.jsonl');
const resultPath = join(root, 'eval/results/middleman.json');

const round = (value: number): number => Math.round(value * 1000) / 1000;
const ratio = (num: number, den: number): number => (den === 0 ? 1 : round(num / den));

const loadSet = (): LabelledComment[] =>
  readFileSync(setPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LabelledComment);

const scoreSplit = (comments: LabelledComment[]): SplitReport => {
  const confusion = Object.fromEntries(
    LABELS.map((expected) => [expected, Object.fromEntries(LABELS.map((predicted) => [predicted, 0]))]),
  ) as SplitReport['confusion'];
  const misclassified: SplitReport['misclassified'] = [];
  for (const comment of comments) {
    const { label } = classifyComment({
      text: comment.text,
      authorRole: comment.authorRole,
      itemKind: comment.itemKind,
    });
    confusion[comment.label][label] += 1;
    if (label !== comment.label) {
      misclassified.push({ id: comment.id, expected: comment.label, predicted: label, text: comment.text });
    }
  }
  const counts = (label: MiddlemanLabel) => {
    const truePositive = confusion[label][label];
    const predicted = LABELS.reduce((sum, expected) => sum + confusion[expected][label], 0);
    const actual = LABELS.reduce((sum, predictedLabel) => sum + confusion[label][predictedLabel], 0);
    return { truePositive, predicted, actual };
  };
  const perLabel = Object.fromEntries(
    POSITIVE.map((label) => {
      const { truePositive, predicted, actual } = counts(label);
      return [
        label,
        { precision: ratio(truePositive, predicted), recall: ratio(truePositive, actual), support: actual },
      ];
    }),
  ) as SplitReport['perLabel'];
  const totals = POSITIVE.map(counts).reduce(
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

const printSplit = (name: string, report: SplitReport): void => {
  console.log(`\n== ${name} (${report.size} comments, accuracy ${report.accuracy}) ==`);
  console.log('label          precision  recall  support');
  for (const label of POSITIVE) {
    const score = report.perLabel[label];
    console.log(
      `${label.padEnd(14)} ${String(score.precision).padStart(9)}  ${String(score.recall).padStart(6)}  ${String(score.support).padStart(7)}`,
    );
  }
  console.log(
    `${'overall'.padEnd(14)} ${String(report.overall.precision).padStart(9)}  ${String(report.overall.recall).padStart(6)}`,
  );
  console.log('\nconfusion (rows expected, columns predicted)');
  console.log(`${''.padEnd(14)} ${LABELS.map((label) => label.padStart(13)).join(' ')}`);
  for (const expected of LABELS) {
    console.log(
      `${expected.padEnd(14)} ${LABELS.map((predicted) => String(report.confusion[expected][predicted]).padStart(13)).join(' ')}`,
    );
  }
};

const main = async (): Promise<number> => {
  const set = loadSet();
  const train = scoreSplit(set.filter((comment) => comment.split === 'train'));
  const heldout = scoreSplit(set.filter((comment) => comment.split === 'heldout'));
  printSplit('train', train);
  printSplit('heldout', heldout);

  console.log(`\nmisclassified held-out comments (${heldout.misclassified.length})`);
  for (const miss of heldout.misclassified) {
    console.log(`  ${miss.id}  expected ${miss.expected}, got ${miss.predicted}: ${JSON.stringify(miss.text)}`);
  }

  const failures = POSITIVE.flatMap((label) =>
    (['precision', 'recall'] as const)
      .filter((metric) => heldout.perLabel[label][metric] < TARGET)
      .map((metric) => `${label} ${metric} ${heldout.perLabel[label][metric]} < ${TARGET}`),
  );

  const results = {
    classifier: 'src/domain/middleman.classify.ts',
    dataset: 'eval/middleman/comments.jsonl',
    target: TARGET,
    passed: failures.length === 0,
    train: { ...train, misclassified: train.misclassified.map((miss) => miss.id) },
    heldout,
  };
  mkdirSync(dirname(resultPath), { recursive: true });
  // Formatted with the repository's prettier settings so `npm run format:check` stays clean.
  const options = (await resolveConfig(resultPath)) ?? {};
  writeFileSync(resultPath, await format(JSON.stringify(results), { ...options, filepath: resultPath }));
  console.log(`\nwrote ${resultPath.slice(root.length + 1)}`);

  if (failures.length > 0) {
    console.error(`\nheld-out below target: ${failures.join('; ')}`);
    return 1;
  }
  console.log(`\nheld-out precision and recall are at or above ${TARGET} for both labels`);
  return 0;
};

process.exitCode = await main();
