import { errorBodySchema } from '../../api/items.contract.js';
import {
  overviewSchema,
  reloadSchema,
  rightsSchema,
  whoDecidesQuerySchema,
  whoDecidesSchema,
  type RightsDto,
} from '../../api/workspace.contract.js';
import { audienceOf } from '../../domain/audience.js';
import { resolveRights, type RightsHolder } from '../../domain/charter.rights.js';
import { isDelegationInForce } from '../../domain/charter.validate.js';
import { AppError } from '../../domain/errors.js';
import { answerWhoDecides, renderWhoDecides } from '../../domain/who-decides.js';
import { recordAudit } from '../../services/access.service.js';
import type { LoadedCharter, ServiceContext } from '../../services/context.js';
import { getOverview } from '../../services/overview.service.js';
import { presentEvent } from '../presenters.js';
import { defineRoute, type RouteSpec } from '../route.js';

const charterOrThrow = (ctx: ServiceContext): LoadedCharter => {
  const loaded = ctx.charter();
  if (!loaded) throw new AppError('LANES_CHARTER_NOT_FOUND', 'no charter is loaded; run `lanes init` and restart');
  return loaded;
};

const party = (h: RightsHolder) => ({
  group: h.name,
  label: h.kind === 'person' ? (h.people[0]?.name ?? h.name) : h.name,
  people: h.people,
});

/** Flattens the rights matrix into the cells the web matrix renders. */
const presentRights = (loaded: LoadedCharter, now: Date): RightsDto => {
  const matrix = resolveRights(loaded.charter, now);
  const label = (h: RightsHolder) => party(h).label;
  return {
    asOf: matrix.asOf,
    domains: matrix.domains.map((d) => ({ id: d.id, title: d.title, question: d.question })),
    teams: matrix.teams,
    cells: matrix.domains.flatMap((d) =>
      d.teams.map((t) => ({
        domain: d.id,
        team: t.team.id,
        decides: t.decider ? party(t.decider) : null,
        consulted: t.consulted.map(party),
        informed: t.informed.map(party),
        overridden: t.overridden,
        delegations: t.delegations.map((x) => ({
          from: label(x.from),
          to: label(x.to),
          until: x.until,
          reason: x.reason,
        })),
      })),
    ),
    delegations: (loaded.charter.delegations ?? [])
      .filter((d) => isDelegationInForce(d, now, loaded.charter.workspace.timezone))
      .map((d) => ({
        domain: d.domain,
        team: d.team ?? null,
        from: d.from,
        to: d.to,
        until: d.until,
        reason: d.reason,
      })),
  };
};

export const workspaceRoutes = (
  ctx: ServiceContext,
  options: { reloadCharter?: (() => Promise<{ issues: number }>) | undefined },
): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/api/v1/overview',
    summary: 'The workspace at a glance: teams, items by kind and stage, recent activity, data freshness',
    tag: 'workspace',
    access: 'stakeholder',
    responses: { 200: overviewSchema, 401: errorBodySchema },
    handler: async ({ principal }) => {
      const o = await getOverview(ctx, audienceOf(principal?.user.role));
      return { ...o, recent: o.recent.map((r) => ({ ...r, event: presentEvent(r.event) })) };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/charter/rights',
    summary: 'The decision-rights matrix: domains × teams with who decides, is consulted, is informed',
    tag: 'charter',
    access: 'stakeholder',
    responses: { 200: rightsSchema, 404: errorBodySchema },
    handler: async () => presentRights(charterOrThrow(ctx), ctx.clock()),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/who-decides',
    summary: 'Answers a free-text question such as "who sets the priority of a bug?"',
    tag: 'charter',
    access: 'stakeholder',
    query: whoDecidesQuerySchema,
    responses: { 200: whoDecidesSchema, 400: errorBodySchema },
    handler: async ({ query }) => {
      const answer = answerWhoDecides(charterOrThrow(ctx).charter, query.q, ctx.clock());
      return { matched: answer.matched?.domain ?? null, closest: answer.closest, text: renderWhoDecides(answer) };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/charter/reload',
    summary: 'Re-read lanes.yaml; the old charter stays in force when the new one has errors',
    tag: 'admin',
    access: 'admin',
    responses: { 200: reloadSchema, 400: errorBodySchema, 403: errorBodySchema },
    handler: async ({ principal }) => {
      if (!options.reloadCharter)
        throw new AppError('LANES_CHARTER_NOT_FOUND', 'this server has no charter file to reload');
      const result = await options.reloadCharter();
      await recordAudit(ctx, { kind: 'user', user: principal!.user }, 'charter.reload', null, result);
      return { reloaded: true, issues: result.issues };
    },
  }),
];
