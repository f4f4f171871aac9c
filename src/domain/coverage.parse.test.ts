import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import {
  coveragePercent,
  detectCoverageFormat,
  MAX_COVERAGE_CHARS,
  parseCobertura,
  parseCoverage,
  parseIstanbulSummary,
  parseLcov,
} from './coverage.parse.js';

const LCOV = `TN:
SF:/repo/src/ledger/post.ts
FN:3,post
FNDA:12,post
FNF:1
FNH:1
DA:3,12
DA:4,12
DA:7,0
BRDA:4,0,0,10
BRDA:4,0,1,-
LF:3
LH:2
BRF:2
BRH:1
end_of_record
TN:
SF:/repo/src/ledger/balance.ts
DA:1,1
DA:2,0
DA:3,5
DA:4,1
BRDA:3,0,0,1
BRDA:3,0,1,0
end_of_record
`;

const COBERTURA = `<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.75" branch-rate="0.5" lines-covered="6" lines-valid="8" branches-covered="2" branches-valid="4" complexity="0" version="7.4.0" timestamp="1716800000000">
  <sources><source>/repo/src</source></sources>
  <packages>
    <package name="ledger" line-rate="0.75" branch-rate="0.5" complexity="0">
      <classes>
        <class name="post.py" filename="ledger/post.py" complexity="0" line-rate="1" branch-rate="0.5">
          <methods/>
          <lines>
            <line number="1" hits="1"/>
            <line number="2" hits="3" branch="true" condition-coverage="50% (1/2)"/>
          </lines>
        </class>
        <class name="balance.py" filename="ledger/balance.py" complexity="0" line-rate="0.67" branch-rate="0.5">
          <methods/>
          <lines>
            <line number="1" hits="1"/>
            <line number="2" hits="0"/>
          </lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
`;

/** A report from a tool that writes only the rates: the lines are counted. */
const COBERTURA_RATES_ONLY = `<?xml version="1.0"?>
<coverage line-rate="0.6667" branch-rate="0.5" version="1.9" timestamp="1">
  <packages><package name="a"><classes>
    <class name="A" filename="src/A.java"><lines>
      <line number="1" hits="2" branch="false"/>
      <line number="2" hits="0" branch="false"/>
      <line number="3" hits="1" branch="true" condition-coverage="50% (2/4)"/>
    </lines></class>
  </classes></package></packages>
</coverage>`;

const ISTANBUL = JSON.stringify({
  total: {
    lines: { total: 120, covered: 96, skipped: 0, pct: 80 },
    statements: { total: 130, covered: 100, skipped: 0, pct: 76.92 },
    functions: { total: 20, covered: 18, skipped: 0, pct: 90 },
    branches: { total: 40, covered: 30, skipped: 0, pct: 75 },
  },
  '/repo/src/a.ts': { lines: { total: 60, covered: 50, skipped: 0, pct: 83.33 } },
  '/repo/src/b.ts': { lines: { total: 60, covered: 46, skipped: 0, pct: 76.67 } },
});

const invalidOf = (f: () => unknown): AppError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('LANES_IMPORT_INVALID');
    return e as AppError;
  }
  throw new Error('expected LANES_IMPORT_INVALID');
};

describe('lcov', () => {
  it('sums LF/LH and BRF/BRH per file, counting DA/BRDA where the totals are missing', () => {
    expect(parseLcov(LCOV)).toEqual({
      format: 'lcov',
      lines: { covered: 2 + 3, total: 3 + 4 },
      branches: { covered: 1 + 1, total: 2 + 2 },
      files: 2,
    });
  });
  it('accepts CRLF line ends', () => {
    expect(parseLcov(LCOV.replaceAll('\n', '\r\n')).lines).toEqual({ covered: 5, total: 7 });
  });
  it('refuses what is not a tracefile, with the line', () => {
    expect(invalidOf(() => parseLcov('hello world\n')).message).toMatch(/lcov report: unexpected line/);
    expect(invalidOf(() => parseLcov('SF:a\nLF:x\nend_of_record\n')).details).toMatchObject({ line: 2 });
    expect(invalidOf(() => parseLcov('SF:a\nLF:3\n')).message).toMatch(/no end_of_record/);
    expect(invalidOf(() => parseLcov('SF:a\nLF:1\nLH:5\nend_of_record\n')).message).toMatch(/more lines covered/);
    expect(invalidOf(() => parseLcov('TN:\n')).message).toMatch(/no SF/);
  });
});

describe('Cobertura', () => {
  it('reads the root counts and counts the files', () => {
    expect(parseCobertura(COBERTURA)).toEqual({
      format: 'cobertura',
      lines: { covered: 6, total: 8 },
      branches: { covered: 2, total: 4 },
      files: 2,
    });
  });
  it('counts the lines when only rates are written', () => {
    expect(parseCobertura(COBERTURA_RATES_ONLY)).toEqual({
      format: 'cobertura',
      lines: { covered: 2, total: 3 },
      branches: { covered: 2, total: 4 },
      files: 1,
    });
  });
  it('refuses malformed XML and other roots', () => {
    expect(invalidOf(() => parseCobertura('<coverage lines-valid="1"><packages>')).message).toMatch(/cobertura/);
    expect(invalidOf(() => parseCobertura('<report/>')).message).toMatch(/no <coverage> root/);
    expect(invalidOf(() => parseCobertura('<coverage line-rate="1"/>')).message).toMatch(/neither/);
  });
  it('never expands entities: a billion-laughs document is refused at once', () => {
    const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<coverage lines-valid="&lol9;" lines-covered="1"><packages/></coverage>`;
    const started = performance.now();
    expect(invalidOf(() => parseCobertura(laughs)).message).toMatch(/entity/);
    expect(performance.now() - started).toBeLessThan(500);
  });
  it('does not resolve entity references or external entities', () => {
    const ext = `<?xml version="1.0"?><!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><coverage lines-valid="1" lines-covered="1"/>`;
    invalidOf(() => parseCobertura(ext));
    // A bare reference stays text; the count is then not a number.
    expect(invalidOf(() => parseCobertura('<coverage lines-valid="&amp;" lines-covered="1"/>')).message).toMatch(
      /whole number/,
    );
  });
});

describe('Istanbul coverage-summary.json', () => {
  it('reads total.lines and total.branches', () => {
    expect(parseIstanbulSummary(ISTANBUL)).toEqual({
      format: 'istanbul',
      lines: { covered: 96, total: 120 },
      branches: { covered: 30, total: 40 },
      files: 2,
    });
  });
  it('refuses other JSON', () => {
    expect(invalidOf(() => parseIstanbulSummary('{"a":1}')).message).toMatch(/no "total"/);
    expect(invalidOf(() => parseIstanbulSummary('{"total":{"lines":{"covered":1,"total":2}}}')).message).toMatch(
      /branches is missing/,
    );
    expect(invalidOf(() => parseIstanbulSummary('{"total":')).message).toMatch(/not valid JSON/);
    invalidOf(() =>
      parseIstanbulSummary('{"total":{"lines":{"covered":-1,"total":2},"branches":{"covered":0,"total":0}}}'),
    );
  });
});

describe('parseCoverage', () => {
  it('detects the format', () => {
    expect(detectCoverageFormat(LCOV)).toBe('lcov');
    expect(detectCoverageFormat(COBERTURA)).toBe('cobertura');
    expect(detectCoverageFormat(`  ${ISTANBUL}`)).toBe('istanbul');
    expect(parseCoverage(COBERTURA).format).toBe('cobertura');
  });
  it('refuses empty and oversized reports before parsing', () => {
    expect(invalidOf(() => parseCoverage('  \n')).message).toMatch(/empty/);
    const huge = 'x'.repeat(MAX_COVERAGE_CHARS + 1);
    expect(invalidOf(() => parseCoverage(huge, 'lcov')).message).toMatch(/larger than/);
  });
  it('percentages', () => {
    expect(coveragePercent({ covered: 2, total: 3 })).toBe(66.7);
    expect(coveragePercent({ covered: 0, total: 0 })).toBeNull();
  });
  it('either parses or refuses with LANES_IMPORT_INVALID, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom(LCOV, COBERTURA, ISTANBUL).map((s) => s.slice(0, 80)),
        ),
        (s) => {
          try {
            const r = parseCoverage(s);
            expect(r.lines.covered).toBeLessThanOrEqual(r.lines.total);
          } catch (e) {
            expect((e as AppError).code).toBe('LANES_IMPORT_INVALID');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
