import { describe, expect, it } from 'vitest';
import { charterJsonSchema } from './charter.schema.js';
import { parseCharter } from './charter.parse.js';
import { STARTER_CHARTER } from './charter.template.js';
import { stagePolicyOf } from './stage.js';

const NOW = new Date('2026-06-01T12:00:00Z');

/** The starter charter with a GitHub mapping whose workflow lives in milestones and labels. */
const withConnectors = (github: string, team = ''): string =>
  STARTER_CHARTER.replace('connectors: {}', `connectors:\n  github:\n${github}`).replace(
    '    escalation: erin\n',
    `    escalation: erin\n${team}`,
  );

const WORKFLOW = `    repos:
      webcompat/web-bugs: { team: checkout, default_kind: bug }
    milestones:
      needstriage: { state: new }
      needsdiagnosis: { state: acknowledged }
      sitewait: { state: waiting }
      duplicate: { resolution: duplicate }
      non-compat: { resolution: invalid }
    labels:
      status-worksforme: { resolution: cannot_reproduce }
`;

describe('stage settings in lanes.yaml', () => {
  it('accepts workflow milestones and labels, a default kind, and released_on_close per team', () => {
    const { charter, issues } = parseCharter(
      withConnectors(WORKFLOW, '    released_on_close: true\n'),
      'lanes.yaml',
      NOW,
    );
    expect(issues).toEqual([]);
    expect(charter!.connectors!.github!.milestones!['sitewait']).toEqual({ state: 'waiting' });
    expect(charter!.connectors!.github!.repos['webcompat/web-bugs']!.default_kind).toBe('bug');
    expect([...stagePolicyOf(charter).releasedOnClose]).toEqual(['checkout']);
  });

  it('refuses an unknown state or resolution at its line and column', () => {
    const text = withConnectors(WORKFLOW.replace('{ state: waiting }', '{ state: sitewait }'));
    const { charter, issues } = parseCharter(text, 'lanes.yaml', NOW);
    expect(charter).toBeUndefined();
    const line = text.split('\n').findIndex((l) => l.includes('state: sitewait')) + 1;
    expect(issues).toEqual([
      expect.objectContaining({ code: 'LANES_CHARTER_SCHEMA', line, message: expect.stringMatching(/waiting/) }),
    ]);
    const resolution = parseCharter(
      withConnectors(WORKFLOW.replace('resolution: invalid', 'resolution: not_compatible')),
      'lanes.yaml',
      NOW,
    );
    expect(resolution.issues.map((i) => i.code)).toEqual(['LANES_CHARTER_SCHEMA']);
    const kind = parseCharter(
      withConnectors(WORKFLOW.replace('default_kind: bug', 'default_kind: defect')),
      'lanes.yaml',
      NOW,
    );
    expect(kind.issues.map((i) => i.code)).toEqual(['LANES_CHARTER_SCHEMA']);
  });

  it('describes the settings in the JSON Schema editors complete from', () => {
    const schema = JSON.stringify(charterJsonSchema());
    for (const words of ['released_on_close', 'default_kind', 'milestones', 'cannot_reproduce', 'waiting'])
      expect(schema).toContain(words);
  });
});
