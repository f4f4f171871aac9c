import { describe, expect, it } from 'vitest';
import { closingReasonOf, keptResolution, reconcileClosing } from './stage.closing.js';
import { judgeStage, NO_STAGE_POLICY, STAGE_LABELS, STAGES, stagePolicyOf, type StageInput } from './stage.js';

const item = (over: Partial<StageInput> = {}): StageInput => ({
  kind: 'bug',
  team: 'web',
  state: 'new',
  resolution: null,
  prOpen: false,
  mergedAt: null,
  deployedAt: null,
  verifiedAt: null,
  assignee: null,
  ...over,
});

describe('closing reasons', () => {
  it.each([
    // GitHub state_reason
    ['completed', 'completed'],
    ['not_planned', 'wont_fix'],
    ['duplicate', 'duplicate'],
    ['reopened', null],
    // Jira resolutions (issues.apache.org and Jira Cloud defaults)
    ['Fixed', 'completed'],
    ['Done', 'completed'],
    ["Won't Fix", 'wont_fix'],
    ["Won't Do", 'wont_fix'],
    ['Duplicate', 'duplicate'],
    ['Incomplete', 'incomplete'],
    ['Cannot Reproduce', 'cannot_reproduce'],
    ['Not A Bug', 'invalid'],
    ['Works as Designed', 'invalid'],
    ['Unresolved', null],
    // Bugzilla resolutions and statuses
    ['FIXED', 'completed'],
    ['INVALID', 'invalid'],
    ['WONTFIX', 'wont_fix'],
    ['DUPLICATE', 'duplicate'],
    ['WORKSFORME', 'cannot_reproduce'],
    ['INCOMPLETE', 'incomplete'],
    ['VERIFIED', 'verified'],
    ['---', null],
    // Linear state types and names
    ['canceled', 'wont_fix'],
    // Lanes' own normalised states
    ['wont_fix', 'wont_fix'],
    ['cannot_reproduce', 'cannot_reproduce'],
    ['in progress', null],
  ])('%s → %s', (value, reason) => {
    expect(closingReasonOf(value)).toBe(reason);
  });

  it('reconciles state and resolution in one place: neither turns the other into a fix', () => {
    // The case from the field: a Bugzilla INVALID mapped onto a wont_fix state was shown as Live.
    expect(reconcileClosing('wont_fix', 'INVALID')).toBe('invalid');
    expect(reconcileClosing('wont_fix', 'FIXED')).toBe('wont_fix');
    expect(reconcileClosing('done', 'not_planned')).toBe('wont_fix');
    expect(reconcileClosing('verified', 'FIXED')).toBe('verified');
    expect(reconcileClosing('verified', 'WONTFIX')).toBe('wont_fix');
    expect(reconcileClosing('done', 'VERIFIED')).toBe('verified');
    expect(reconcileClosing('done', null)).toBe('completed');
    expect(reconcileClosing('closed', 'something only this team says')).toBe('completed');
  });

  it('keeps a specific reason when a generic one follows it', () => {
    expect(keptResolution('duplicate', 'completed')).toBe('duplicate');
    expect(keptResolution('completed', 'not_planned')).toBe('not_planned');
    expect(keptResolution(null, 'completed')).toBe('completed');
    expect(keptResolution('invalid', null)).toBe('invalid');
  });
});

describe('stages', () => {
  it('has a label for every stage', () => {
    for (const stage of STAGES) expect(STAGE_LABELS[stage]).toMatch(/\S/);
  });

  it('never calls a closed item Live without evidence it reached production', () => {
    expect(judgeStage(item({ state: 'done' }))).toEqual({ stage: 'fixed', closing: 'completed', liveBy: null });
    expect(judgeStage(item({ state: 'done', mergedAt: '2026-01-02T00:00:00.000Z' })).stage).toBe('fix_ready');
    const deployed = item({
      state: 'done',
      mergedAt: '2026-01-02T00:00:00.000Z',
      deployedAt: '2026-01-03T00:00:00.000Z',
    });
    expect(judgeStage(deployed)).toEqual({ stage: 'live', closing: 'completed', liveBy: 'deployment' });
    // A deploy event naming the item, with no merge Lanes saw.
    expect(judgeStage(item({ state: 'done', deployedAt: '2026-01-03T00:00:00.000Z' })).liveBy).toBe('deployment');
    // A deployment before the fix was merged cannot carry it.
    const early = item({ state: 'done', mergedAt: '2026-01-04T00:00:00.000Z', deployedAt: '2026-01-03T00:00:00.000Z' });
    expect(judgeStage(early).stage).toBe('fix_ready');
    // The tracker's own "released" state.
    expect(judgeStage(item({ state: 'released' }))).toEqual({ stage: 'live', closing: 'completed', liveBy: 'tracker' });
  });

  it('makes closed-as-completed Live for a team whose charter says so, and only for it', () => {
    const policy = stagePolicyOf({
      teams: [{ id: 'web', released_on_close: true } as never, { id: 'api' } as never],
    });
    expect(judgeStage(item({ state: 'done' }), policy)).toEqual({
      stage: 'live',
      closing: 'completed',
      liveBy: 'charter',
    });
    expect(judgeStage(item({ state: 'done', team: 'api' }), policy).stage).toBe('fixed');
    expect(judgeStage(item({ state: 'wont_fix' }), policy).stage).toBe('wont_fix');
    expect(judgeStage(item({ state: 'done', resolution: 'Duplicate' }), policy).stage).toBe('duplicate');
  });

  it('maps every closing without a fix to its own stage', () => {
    const stageOf = (state: string, resolution: string | null = null) =>
      judgeStage(item({ state, resolution }), NO_STAGE_POLICY).stage;
    expect(stageOf('wont_fix')).toBe('wont_fix');
    expect(stageOf('done', 'not_planned')).toBe('wont_fix');
    expect(stageOf('duplicate')).toBe('duplicate');
    expect(stageOf('done', 'INVALID')).toBe('invalid');
    expect(stageOf('done', 'WORKSFORME')).toBe('cannot_reproduce');
    expect(stageOf('done', 'Incomplete')).toBe('incomplete');
    expect(stageOf('wont_fix', 'INVALID')).toBe('invalid');
  });

  it('is Verified from a verified state or event, never over a closing without a fix', () => {
    expect(judgeStage(item({ state: 'verified' })).stage).toBe('verified');
    expect(judgeStage(item({ state: 'done', resolution: 'VERIFIED' })).stage).toBe('verified');
    expect(judgeStage(item({ state: 'done', verifiedAt: '2026-01-05T00:00:00.000Z' })).stage).toBe('verified');
    expect(judgeStage(item({ state: 'verified', resolution: 'INVALID' })).stage).toBe('invalid');
  });

  it('gives incidents incident stages', () => {
    const incident = (over: Partial<StageInput>) => judgeStage(item({ kind: 'incident', ...over })).stage;
    expect(incident({ state: 'investigating' })).toBe('investigating');
    expect(incident({ state: 'new' })).toBe('investigating');
    expect(incident({ state: 'identified' })).toBe('identified');
    expect(incident({ state: 'monitoring' })).toBe('monitoring');
    expect(incident({ state: 'in review', prOpen: true })).toBe('monitoring');
    expect(incident({ state: 'resolved' })).toBe('resolved');
    expect(incident({ state: 'done', mergedAt: '2026-01-02T00:00:00.000Z' })).toBe('resolved');
    expect(incident({ state: 'duplicate' })).toBe('duplicate');
    expect(incident({ state: 'investigating', prOpen: true })).toBe('investigating');
  });

  it('keeps the open stages, with waiting on someone outside the team', () => {
    expect(judgeStage(item({ state: 'waiting' })).stage).toBe('waiting');
    expect(judgeStage(item({ state: 'in progress' })).stage).toBe('being_fixed');
    expect(judgeStage(item({ state: 'new', prOpen: true })).stage).toBe('fix_in_review');
    expect(judgeStage(item({ state: 'new', assignee: 'ana' })).stage).toBe('acknowledged');
    expect(judgeStage(item({})).stage).toBe('reported');
  });
});
