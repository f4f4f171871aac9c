import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Charter } from './charter.schema.js';
import { projectItem, projectItemWithStages } from './item.projection.js';
import { composeNotification } from './notification.js';
import { statusWords } from './portal.status.js';
import { arbitraryItemHistory } from './stage.arbitrary.test-helper.js';
import { reconcileClosing, NO_FIX_REASONS, type ClosingReason } from './stage.closing.js';
import { stageEvidenceOf } from './stage.evidence.js';
import {
  CLOSED_STAGES,
  INCIDENT_STAGES,
  NO_STAGE_POLICY,
  STAGE_LABELS,
  stateCategory,
  stagePolicyOf,
} from './stage.js';

const NOW = new Date('2026-01-05T00:00:00Z');
/** A charter whose team `web` says "closed as completed means released"; `api` does not. */
const releasing = { teams: [{ id: 'web', released_on_close: true }, { id: 'api' }] } as unknown as Charter;

const FIX_WORD = /\bfix/i;
const NO_DEPLOY_RECORD = /no record of the production deployment|not known|has not seen a production deployment/i;

describe('stages and their words over generated histories', () => {
  it('the status sentence is judged from the same facts as the stage and never contradicts it', () => {
    fc.assert(
      fc.property(arbitraryItemHistory(), fc.boolean(), (events, charterSaysReleased) => {
        const charter = charterSaysReleased ? releasing : undefined;
        const policy = stagePolicyOf(charter);
        const { item, transitions } = projectItemWithStages(events, policy);
        if (!item) return;
        const words = statusWords(
          { ...item, stageSince: transitions.at(-1)?.at ?? item.updatedAt, duplicateOf: null },
          charter,
          NOW,
        );
        const said = `${STAGE_LABELS[words.stage]} ${words.status} ${words.next}`;

        // The same facts give the same stage.
        expect(words.stage).toBe(item.stage);
        const closed = stateCategory(item.state) === 'done';
        // Closed is a closed stage, or a merged fix still waiting for its deployment; open is an open stage, or
        // Live when a deployment carried the merged fix before anyone closed the item.
        if (closed) expect(CLOSED_STAGES.has(item.stage) || item.stage === 'fix_ready').toBe(true);
        else expect(CLOSED_STAGES.has(item.stage) && item.stage !== 'live').toBe(false);

        if (item.stage === 'live') {
          // Live beside "no record of the deployment" is the contradiction the field saw.
          expect(words.status).not.toMatch(NO_DEPLOY_RECORD);
          const releasedByCharter = closed && item.team === 'web' && charterSaysReleased;
          expect(item.deployedAt !== null || item.state === 'released' || releasedByCharter).toBe(true);
          if (item.deployedAt === null && item.state !== 'released') expect(words.status).toMatch(/charter says so/);
        } else {
          expect(words.status).not.toMatch(/^Live for customers/);
        }

        if (closed) {
          const closing = reconcileClosing(item.state, item.resolution);
          if (NO_FIX_REASONS.has(closing as ClosingReason)) {
            // Closed without a fix: never Live, Fixed or Verified, and no word that it is live.
            expect(['wont_fix', 'duplicate', 'invalid', 'cannot_reproduce', 'incomplete', 'resolved']).toContain(
              item.stage,
            );
            expect(words.status).not.toMatch(/\blive\b/i);
          }
          if (item.deployedAt === null && item.state !== 'released' && !charterSaysReleased)
            expect(item.stage).not.toBe('live');
        }

        if (item.kind === 'incident') {
          expect([...INCIDENT_STAGES, 'duplicate']).toContain(item.stage);
          expect(said).not.toMatch(FIX_WORD);
        } else {
          for (const stage of INCIDENT_STAGES) expect(item.stage).not.toBe(stage);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('tells an incident in incident words in every notification', () => {
    fc.assert(
      fc.property(arbitraryItemHistory(), (events) => {
        const { item, transitions } = projectItemWithStages(events, NO_STAGE_POLICY);
        if (!item || item.kind !== 'incident') return;
        const last = transitions.at(-1);
        // (A bug that became an incident may have moved from a bug's stage: that part is history.)
        if (!last || !INCIDENT_STAGES.has(last.to) || (last.from !== null && !INCIDENT_STAGES.has(last.from))) return;
        const message = composeNotification({
          change: {
            id: last.id,
            itemKey: item.key,
            fromStage: last.from,
            toStage: last.to,
            occurredAt: last.at,
            evidence: { ...stageEvidenceOf(last.event), summary: '' },
          },
          item: { key: item.key, title: null },
          target: { kind: 'item', value: item.key },
          links: { item: (k) => `https://lanes.example/portal/items/${k}`, unsubscribe: 'https://lanes.example/u' },
        });
        expect(message.subject).not.toMatch(FIX_WORD);
        expect(message.text).not.toMatch(FIX_WORD);
      }),
      { numRuns: 1000 },
    );
  });

  it('derives the same stage whatever order the events arrive in', () => {
    fc.assert(
      fc.property(arbitraryItemHistory(), fc.boolean(), fc.infiniteStream(fc.nat()), (events, released, order) => {
        const policy = stagePolicyOf(released ? releasing : undefined);
        const shuffled = [...events];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = order.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        expect(projectItem(shuffled, policy)).toEqual(projectItem(events, policy));
      }),
      { numRuns: 500 },
    );
  });
});
