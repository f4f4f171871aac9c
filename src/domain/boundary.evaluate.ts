import {
  actingEventOf,
  charterActorOf,
  charterPersonNamed,
  holdAgainstCharter,
  isBotIdentity,
  type BoundaryJudgement,
} from './boundary.js';
import type { Charter } from './charter.schema.js';
import { completesMove, isMoveHalf, mergedMove, moveCarrier, MOVE_WINDOW_MS } from './boundary.moves.js';
import {
  decisionOf,
  DEFAULT_DECISION_RULE_SET,
  isActor,
  type DecisionRuleSet,
  type SamePerson,
} from './decision.rules.js';
import { weekOf } from './week.js';
import { CHANGE_KINDS, type ChangeKind, type LoggedEvent } from './event.js';
import { applyEvent, type ItemState } from './item.projection.js';
import { classifyComment } from './middleman.classify.js';

/**
 * The boundary monitor's walk over the log (PRODUCT.md C3). Fed events in log
 * order, it keeps each item as it stood before the event and the incidents
 * active per component, and for every event returns the decision held against
 * the charter (if the event is one) and the middleman signal (if the event is
 * a status ping or a product manager's status relay).
 *
 * The same walk serves a full recompute (every event from the start) and the
 * incremental path (seeded with the stored items, fed the new events), so the
 * two agree by construction.
 */

/** Change kinds that move what the walk keeps of an item (kind, title, team, component, labels, assignee, state). */
const FOLDED_KINDS: readonly ChangeKind[] = [
  'created',
  'field_changed',
  'label_added',
  'label_removed',
  'closed',
  'reopened',
  'incident_declared',
  'incident_resolved',
  'commented',
];

/**
 * Which events a full recompute must read: those of a kind a rule can match
 * or the walk folds, events naming a field in `data.field` when a rule looks
 * at it, and events carrying an item snapshot (the first sight of an item).
 * The rest (PR reviews, deployments, SLI samples, …) cannot change a
 * judgement; skipping them in the query spares a third of the demo log.
 * `kinds: null` means every kind.
 */
export interface LogFilter {
  kinds: ChangeKind[] | null;
  dataField: boolean;
}

export const logFilterOf = (rules: DecisionRuleSet): LogFilter => {
  const kinds = new Set<ChangeKind>(FOLDED_KINDS);
  let dataField = false;
  for (const rule of rules.compiled) {
    if (rule.change) for (const k of rule.change) kinds.add(k);
    else if (rule.field) kinds.add('field_changed');
    else if (rule.dataField) dataField = true;
    else return { kinds: null, dataField: true };
  }
  return { kinds: kinds.size === CHANGE_KINDS.length ? null : [...kinds].sort(), dataField };
};

/** Middleman kinds: a stakeholder asking for status, a PM passing status on, a self-serve portal lookup. */
export const MIDDLEMAN_KINDS = ['ping', 'relay', 'portal_lookup'] as const;
export type MiddlemanKind = (typeof MIDDLEMAN_KINDS)[number];

/** One unit of status-relaying load carried by a team's product manager. */
export interface MiddlemanSignal {
  eventId: string;
  itemKey: string | null;
  occurredAt: string;
  week: string;
  team: string;
  /** The product manager who carries the load; '' when the team names none. */
  personId: string;
  kind: MiddlemanKind;
}

export interface Evaluation {
  event: LoggedEvent;
  week: string;
  judgement: BoundaryJudgement | null;
  signal: MiddlemanSignal | null;
}

export interface BoundaryEvaluatorOptions {
  charter: Charter;
  rules?: DecisionRuleSet | undefined;
  now: Date;
}

interface ActiveIncident {
  itemKey: string;
  commander: string;
}

const ENGINEERING_SIDE = new Set(['tech-lead', 'engineering-manager', 'engineer', 'sre', 'engineering-leadership']);

/** A change held back as the possible first half of a move. */
interface PendingHalf {
  /** Its evaluation on its own, released when no second half comes. */
  evaluation: Evaluation;
  before: ItemState | undefined;
  at: number;
}

export class BoundaryEvaluator {
  private readonly items = new Map<string, ItemState>();
  private readonly pending = new Map<string, PendingHalf>();
  private readonly samePerson: SamePerson;
  private readonly incidents = new Map<string, ActiveIncident>();
  private readonly commanders = new Map<string, string>();
  private readonly teams: ReadonlyMap<string, Charter['teams'][number]>;
  private readonly rules: DecisionRuleSet;

  constructor(private readonly options: BoundaryEvaluatorOptions) {
    this.rules = options.rules ?? DEFAULT_DECISION_RULE_SET;
    this.teams = new Map(options.charter.teams.map((t) => [t.id, t]));
    const charter = options.charter;
    // Self-assignment through every identity the charter gives a person (old e-mails, aliases).
    this.samePerson = (event, value) => {
      if (isActor(event, value)) return true;
      const actor = charterActorOf(charter, event);
      return actor !== null && charterPersonNamed(charter, value, event.source)?.id === actor.id;
    };
  }

  /** The item as it stands before the next event of it (from the projection). */
  seedItem(item: ItemState): void {
    this.items.set(item.key, item);
  }

  /** Forgets an item, so its history can be walked again from the start. */
  forgetItem(key: string): void {
    this.items.delete(key);
  }

  /** An incident that is open now (from the projection). */
  seedIncident(item: ItemState): void {
    this.trackIncident(item, 'seed');
  }

  /**
   * Holds one event against the charter and folds it into its item. Events
   * must come in log order. Returns the evaluations that are final now: a
   * change that may be half of a move (see `boundary.moves.ts`) is held back
   * until its other half arrives or the window closes, so an evaluation can
   * come out with a later event, or from `flush`.
   */
  evaluate(event: LoggedEvent): Evaluation[] {
    const out: Evaluation[] = [];
    this.release(Date.parse(event.occurredAt) - MOVE_WINDOW_MS, out);
    const before = event.itemKey === null ? undefined : this.items.get(event.itemKey);
    const week = weekOf(event.occurredAt);
    if (isMoveHalf(event)) {
      const key = `${event.itemKey!}\u0001${event.field!}`;
      const half = this.pending.get(key);
      if (half) this.pending.delete(key);
      if (half && completesMove(half.evaluation.event, event)) {
        out.push(this.judgeMove(half, event, before));
      } else {
        if (half) out.push(half.evaluation);
        const evaluation = { event, week, judgement: this.judge(event, before), signal: null };
        this.pending.set(key, { evaluation, before, at: Date.parse(event.occurredAt) });
      }
    } else {
      const signal = event.kind === 'commented' ? this.middleman(event, before, week) : null;
      out.push({ event, week, judgement: this.judge(event, before), signal });
    }
    if (event.itemKey !== null) {
      const after = applyEvent(before, event);
      this.items.set(event.itemKey, after);
      if (after.kind === 'incident' || before?.kind === 'incident') this.trackIncident(after, event.source);
    }
    return out;
  }

  /** The evaluations still held back (halves of possible moves): call once the walk has seen every event. */
  flush(): Evaluation[] {
    const out: Evaluation[] = [];
    this.release(Number.POSITIVE_INFINITY, out);
    return out;
  }

  /** Lets go of held-back halves from before `until` (ms): their other half can no longer come. */
  private release(until: number, out: Evaluation[]): void {
    // Insertion order is log order, so the oldest come first.
    for (const [key, half] of this.pending) {
      if (half.at >= until) break;
      this.pending.delete(key);
      out.push(half.evaluation);
    }
  }

  /** One decision for both halves of a move, on the half that sets a value (none when nothing changed). */
  private judgeMove(half: PendingHalf, second: LoggedEvent, before: ItemState | undefined): Evaluation {
    const first = half.evaluation.event;
    const carrier = moveCarrier(first, second);
    const merged = mergedMove(first, second);
    const judgement = merged === null ? null : this.judge(merged, carrier === first ? half.before : before);
    return { event: carrier, week: weekOf(carrier.occurredAt), judgement, signal: null };
  }

  private judge(event: LoggedEvent, before: ItemState | undefined): BoundaryJudgement | null {
    const decision = decisionOf(event, before, this.rules, this.samePerson);
    if (!decision) return null;
    return holdAgainstCharter(event, decision, before, {
      charter: this.options.charter,
      now: this.options.now,
      activeIncidents: this.commanders,
    });
  }

  private trackIncident(item: ItemState, source: string): void {
    const component = item.component;
    const current = component === null ? undefined : this.incidents.get(component);
    const open = item.kind === 'incident' && item.closedAt === null;
    const commander =
      open && item.assignee !== null ? charterPersonNamed(this.options.charter, item.assignee, source) : null;
    if (component !== null && commander) {
      this.incidents.set(component, { itemKey: item.key, commander: commander.id });
      this.commanders.set(component, commander.id);
    } else if (component !== null && current?.itemKey === item.key) {
      this.incidents.delete(component);
      this.commanders.delete(component);
    }
    // An incident that moved to another component no longer commands the old one.
    for (const [c, incident] of this.incidents) {
      if (incident.itemKey === item.key && c !== component) {
        this.incidents.delete(c);
        this.commanders.delete(c);
      }
    }
  }

  /** A status ping (anyone outside the team's engineering asking) or a PM's relay or chase. */
  private middleman(event: LoggedEvent, item: ItemState | undefined, week: string): MiddlemanSignal | null {
    if (event.text === null || event.text.trim() === '') return null;
    const teamId = item?.team ?? event.item?.team ?? null;
    const team = teamId === null ? undefined : this.teams.get(teamId);
    if (!team) return null;
    // An untrusted API-posted comment is the reporting user's, whoever it names.
    const acting = actingEventOf(this.options.charter, event);
    if (isBotIdentity(this.options.charter, acting.actorIdentity)) return null;
    const person = charterActorOf(this.options.charter, acting);
    const kind = item?.kind ?? event.item?.kind;
    const result = classifyComment({
      text: event.text,
      authorRole: person?.role ?? 'unknown',
      ...(kind ? { itemKind: kind } : {}),
    });
    if (result.label === 'other') return null;
    const base = { eventId: event.id, itemKey: event.itemKey, occurredAt: event.occurredAt, week, team: team.id };
    if (person?.role === 'product-manager') return { ...base, personId: person.id, kind: 'relay' };
    if (result.label !== 'status_ping') return null;
    // Engineers asking each other for status is not load on the PM.
    if (person && ENGINEERING_SIDE.has(person.role) && team.members.includes(person.id)) return null;
    return { ...base, personId: team.trio.product, kind: 'ping' };
  }
}
