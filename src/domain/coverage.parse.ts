import { XMLParser } from 'fast-xml-parser';
import { AppError } from './errors.js';

/**
 * Coverage reports as CI tools write them (lcov, Cobertura XML, Istanbul
 * `coverage-summary.json`), reduced to the figures Lanes keeps: covered and
 * total lines and branches, and the number of files. Pure: the text is passed in.
 */

export const COVERAGE_FORMATS = ['lcov', 'cobertura', 'istanbul'] as const;
export type CoverageFormat = (typeof COVERAGE_FORMATS)[number];

/** The largest report accepted (characters); larger ones are refused before parsing. */
export const MAX_COVERAGE_CHARS = 8 * 1024 * 1024;

export interface CoverageCount {
  covered: number;
  total: number;
}

export interface CoverageSummary {
  format: CoverageFormat;
  lines: CoverageCount;
  branches: CoverageCount;
  files: number;
}

const invalid = (format: CoverageFormat | 'coverage', message: string, details?: Record<string, unknown>): AppError =>
  new AppError('LANES_IMPORT_INVALID', `${format} report: ${message}`, { format, ...details });

/** Percent with one decimal, or null when there is nothing to cover. */
export const coveragePercent = (c: CoverageCount): number | null =>
  c.total > 0 ? Math.round((c.covered / c.total) * 1000) / 10 : null;

/** Guesses the format from the first meaningful character: `<` Cobertura, `{` Istanbul, else lcov. */
export const detectCoverageFormat = (text: string): CoverageFormat => {
  const start = text.trimStart().slice(0, 1);
  if (start === '<') return 'cobertura';
  if (start === '{') return 'istanbul';
  return 'lcov';
};

const count = (n: number, format: CoverageFormat, what: string, line?: number): number => {
  if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n)) {
    throw invalid(format, `${what} must be a whole number ≥ 0`, line === undefined ? { what } : { what, line });
  }
  return n;
};

const checkCounts = (format: CoverageFormat, s: Omit<CoverageSummary, 'format'>): CoverageSummary => {
  for (const [name, c] of [
    ['lines', s.lines],
    ['branches', s.branches],
  ] as const) {
    if (c.covered > c.total) throw invalid(format, `more ${name} covered (${c.covered}) than there are (${c.total})`);
  }
  return { format, ...s };
};

/** lcov tracefile: LF/LH and BRF/BRH per `SF:` record (DA/BRDA counted when the totals are missing). */
export const parseLcov = (text: string): CoverageSummary => {
  const lines = { covered: 0, total: 0 };
  const branches = { covered: 0, total: 0 };
  let files = 0;
  let inRecord = false;
  let rec = { lf: -1, lh: -1, brf: -1, brh: -1, da: 0, daHit: 0, brda: 0, brdaHit: 0 };
  const close = () => {
    lines.total += rec.lf >= 0 ? rec.lf : rec.da;
    lines.covered += rec.lh >= 0 ? rec.lh : rec.daHit;
    branches.total += rec.brf >= 0 ? rec.brf : rec.brda;
    branches.covered += rec.brh >= 0 ? rec.brh : rec.brdaHit;
  };
  const rows = text.split(/\r?\n/);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!.trim();
    if (row === '') continue;
    const colon = row.indexOf(':');
    const tag = colon < 0 ? row : row.slice(0, colon);
    const value = colon < 0 ? '' : row.slice(colon + 1);
    const num = (what: string) => count(Number(value), 'lcov', what, i + 1);
    switch (tag) {
      case 'TN':
        break;
      case 'SF':
        if (inRecord) throw invalid('lcov', 'SF: inside a record without end_of_record', { line: i + 1 });
        if (value === '') throw invalid('lcov', 'SF: without a file name', { line: i + 1 });
        inRecord = true;
        files += 1;
        rec = { lf: -1, lh: -1, brf: -1, brh: -1, da: 0, daHit: 0, brda: 0, brdaHit: 0 };
        break;
      case 'end_of_record':
        if (!inRecord) throw invalid('lcov', 'end_of_record without SF:', { line: i + 1 });
        close();
        inRecord = false;
        break;
      case 'LF':
      case 'LH':
      case 'BRF':
      case 'BRH': {
        if (!inRecord) throw invalid('lcov', `${tag}: outside a record`, { line: i + 1 });
        rec[tag.toLowerCase() as 'lf' | 'lh' | 'brf' | 'brh'] = num(tag);
        break;
      }
      case 'DA': {
        if (!inRecord) throw invalid('lcov', 'DA: outside a record', { line: i + 1 });
        const hits = value.split(',')[1];
        rec.da += 1;
        if (hits !== undefined && Number(hits) > 0) rec.daHit += 1;
        break;
      }
      case 'BRDA': {
        if (!inRecord) throw invalid('lcov', 'BRDA: outside a record', { line: i + 1 });
        const taken = value.split(',')[3];
        rec.brda += 1;
        if (taken !== undefined && taken !== '-' && Number(taken) > 0) rec.brdaHit += 1;
        break;
      }
      case 'FN':
      case 'FNDA':
      case 'FNF':
      case 'FNH':
      case 'FNL':
      case 'FNA':
      case 'VER':
        break;
      default:
        throw invalid('lcov', `unexpected line "${row.slice(0, 40)}"`, { line: i + 1 });
    }
  }
  if (inRecord) throw invalid('lcov', 'the last record has no end_of_record');
  if (files === 0) throw invalid('lcov', 'no SF: records (is this an lcov tracefile?)');
  return checkCounts('lcov', { lines, branches, files });
};

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** Istanbul `coverage-summary.json` (json-summary reporter): `total.lines` and `total.branches`. */
export const parseIstanbulSummary = (text: string): CoverageSummary => {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalid('istanbul', `not valid JSON (${(e as Error).message})`);
  }
  const root = asObject(doc);
  const total = asObject(root?.total);
  if (!root || !total) throw invalid('istanbul', 'no "total" object (is this coverage-summary.json?)');
  const metric = (name: 'lines' | 'branches'): CoverageCount => {
    const m = asObject(total[name]);
    if (!m) throw invalid('istanbul', `total.${name} is missing`);
    return {
      covered: count(Number(m.covered), 'istanbul', `total.${name}.covered`),
      total: count(Number(m.total), 'istanbul', `total.${name}.total`),
    };
  };
  const files = Object.keys(root).filter((k) => k !== 'total').length;
  return checkCounts('istanbul', { lines: metric('lines'), branches: metric('branches'), files });
};

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Cobertura XML: the root's `lines-covered`/`lines-valid` and
 * `branches-covered`/`branches-valid`; when a tool writes only the rates,
 * the `<line>` elements are counted (`condition-coverage="50% (1/2)"` for branches).
 * Entities are never expanded and entity declarations are refused.
 */
export const parseCobertura = (text: string): CoverageSummary => {
  if (/<!ENTITY/i.test(text)) throw invalid('cobertura', 'entity declarations are not accepted');
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    processEntities: false,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (name) => ['package', 'class', 'line', 'source'].includes(name),
  });
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (e) {
    throw invalid('cobertura', `not well-formed XML (${(e as Error).message})`);
  }
  const root = asObject(asObject(doc)?.coverage);
  if (!root) throw invalid('cobertura', 'no <coverage> root element (is this a Cobertura report?)');
  const classes = list(asObject(root.packages)?.package).flatMap((p) => list(asObject(asObject(p)?.classes)?.class));
  const fileNames = new Set<string>();
  const counted = { lines: 0, linesHit: 0, branches: 0, branchesHit: 0 };
  for (const c of classes) {
    const cls = asObject(c);
    if (!cls) continue;
    if (typeof cls.filename === 'string') fileNames.add(cls.filename);
    for (const l of list(asObject(cls.lines)?.line)) {
      const line = asObject(l);
      if (!line) continue;
      counted.lines += 1;
      if (Number(line.hits) > 0) counted.linesHit += 1;
      const cond =
        typeof line['condition-coverage'] === 'string' ? /\((\d+)\/(\d+)\)/.exec(line['condition-coverage']) : null;
      if (line.branch === 'true' && cond) {
        counted.branchesHit += Number(cond[1]);
        counted.branches += Number(cond[2]);
      }
    }
  }
  const attr = (name: string): number | undefined =>
    root[name] === undefined ? undefined : count(Number(root[name]), 'cobertura', `coverage@${name}`);
  const linesValid = attr('lines-valid');
  const linesCovered = attr('lines-covered');
  const branchesValid = attr('branches-valid');
  const branchesCovered = attr('branches-covered');
  const hasLineCounts = linesValid !== undefined && linesCovered !== undefined;
  if (!hasLineCounts && counted.lines === 0) {
    throw invalid('cobertura', 'neither lines-valid/lines-covered on <coverage> nor any <line> elements');
  }
  return checkCounts('cobertura', {
    lines: hasLineCounts
      ? { covered: linesCovered, total: linesValid }
      : { covered: counted.linesHit, total: counted.lines },
    branches:
      branchesValid !== undefined && branchesCovered !== undefined
        ? { covered: branchesCovered, total: branchesValid }
        : { covered: counted.branchesHit, total: counted.branches },
    files: fileNames.size,
  });
};

/** Parses a report in the given format (or the detected one). Bad or oversized input: `LANES_IMPORT_INVALID`. */
export const parseCoverage = (text: string, format?: CoverageFormat): CoverageSummary => {
  if (text.length > MAX_COVERAGE_CHARS) {
    throw invalid(format ?? 'coverage', `the report is larger than ${MAX_COVERAGE_CHARS / 1024 / 1024} MB`, {
      max: MAX_COVERAGE_CHARS,
    });
  }
  if (text.trim() === '') throw invalid(format ?? 'coverage', 'the report is empty');
  const chosen = format ?? detectCoverageFormat(text);
  switch (chosen) {
    case 'lcov':
      return parseLcov(text);
    case 'cobertura':
      return parseCobertura(text);
    case 'istanbul':
      return parseIstanbulSummary(text);
  }
};
