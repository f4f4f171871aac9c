import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STARTER_CHARTER } from '../domain/charter.template.js';
import { AppError } from '../domain/errors.js';
import { formatIssues, initCharter, loadCharterFile } from './charter.service.js';

const NOW = new Date('2026-06-01T12:00:00Z');

describe('charter service', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanes-charter-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the starter and loads it with its index', async () => {
    const path = join(dir, 'nested', 'lanes.yaml');
    expect(await initCharter(path)).toEqual({ path, bytes: Buffer.byteLength(STARTER_CHARTER) });
    expect(await readFile(path, 'utf8')).toBe(STARTER_CHARTER);
    const { loaded, issues } = await loadCharterFile(path, NOW);
    expect(issues).toEqual([]);
    expect(loaded).toMatchObject({ path, loadedAt: '2026-06-01T12:00:00.000Z' });
    expect(loaded?.index.personByIdentity.get('github:tomlee')).toBe('tom');
    expect(loaded?.index.teamByComponent.get('checkout-api')).toBe('checkout');
  });

  it('never overwrites an existing charter', async () => {
    const path = join(dir, 'lanes.yaml');
    await writeFile(path, 'mine');
    await expect(initCharter(path)).rejects.toMatchObject({ code: 'LANES_CHARTER_EXISTS' });
    expect(await readFile(path, 'utf8')).toBe('mine');
  });

  it('throws LANES_CHARTER_NOT_FOUND naming the path and lanes init', async () => {
    const error: unknown = await loadCharterFile(join(dir, 'missing.yaml'), NOW, 'missing.yaml').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'LANES_CHARTER_NOT_FOUND' });
    expect((error as AppError).message).toMatch(/missing\.yaml.*lanes init/);
    await expect(loadCharterFile(dir, NOW)).rejects.toMatchObject({ code: 'LANES_CHARTER_NOT_FOUND' });
  });

  it('keeps a charter whose only issue is an expired delegation, and refuses any other issue', async () => {
    const expired = join(dir, 'expired.yaml');
    await writeFile(expired, STARTER_CHARTER.replace('until: 2099-12-31', 'until: 2026-01-31'));
    const kept = await loadCharterFile(expired, NOW);
    expect(kept.issues.map((i) => i.code)).toEqual(['LANES_CHARTER_DELEGATION_EXPIRED']);
    expect(kept.loaded?.charter.delegations).toHaveLength(1);

    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, STARTER_CHARTER.replace('escalation: erin', 'escalation: erni'));
    const refused = await loadCharterFile(broken, NOW, 'lanes.yaml');
    expect(refused.loaded).toBeUndefined();
    expect(refused.issues.map((i) => i.code)).toEqual(['LANES_CHARTER_UNKNOWN_PERSON']);
    expect(refused.issues[0]?.file).toBe('lanes.yaml');
  });

  it('formats issues in compiler style with the hint below', async () => {
    const path = join(dir, 'lanes.yaml');
    const text = STARTER_CHARTER.replace('members: [alice, dana, tom, ana]', 'members: [alice, dana, tom, anna]');
    await writeFile(path, text);
    const { issues } = await loadCharterFile(path, NOW, 'lanes.yaml');
    const line = text.split('\n').findIndex((l) => l.includes('anna')) + 1;
    const col = (text.split('\n')[line - 1] ?? '').indexOf('anna') + 1;
    expect(formatIssues(issues)).toBe(
      `lanes.yaml:${line}:${col} error LANES_CHARTER_UNKNOWN_PERSON: team "checkout" lists member "anna", who is not in people.\n` +
        '  → add "anna" under people, or fix the spelling (did you mean "ana"?)',
    );
    expect(formatIssues([])).toBe('');
  });
});
