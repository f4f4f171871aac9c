import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { escalationPath, qualityApi, STATE_LABELS, type EscalationBrief, type FindingState } from '../quality.api';
import { useSession } from '../session';
import {
  EmptyState,
  ErrorNotice,
  errorMessage,
  formatDateTime,
  isForbidden,
  Loading,
  NoAccess,
  TableWrap,
  useApi,
  useTitle,
} from '../ui';

/**
 * Escalations (PRODUCT.md C6): systemic findings addressed to the team's
 * engineering-leadership contact. The inbox lists them; the brief shows the
 * pattern, the evidence, the likely causes with their weights and reasons, the
 * boundary crossings that bear on it, and moves it through its lifecycle.
 */

const CAUSE_LABELS: Record<string, string> = {
  staffing: 'Staffing',
  skills: 'Skills',
  code_health: 'Code health',
  ci_cd: 'CI/CD gaps',
  observability: 'Observability',
  process_design: 'Process design',
};

const ACTION_LABELS: Record<FindingState, string> = {
  open: 'Reopen',
  acknowledged: 'Acknowledge',
  action_planned: 'Plan action',
  resolved: 'Mark resolved',
  dismissed: 'Dismiss',
};

export const EscalationsPage = () => {
  useTitle('Escalations');
  const [params, setParams] = useSearchParams();
  const team = params.get('team')?.trim() || undefined;
  const all = params.get('all') === 'true' ? 'true' : undefined;
  const list = useApi((signal) => qualityApi.escalations({ team, all }, signal), [team, all]);
  if (isForbidden(list.error)) return <NoAccess forWhom="members and admins of the workspace" />;
  const toggleAll = () => {
    const next = new URLSearchParams(params);
    if (all) next.delete('all');
    else next.set('all', 'true');
    setParams(next);
  };
  const items = list.data?.escalations ?? [];
  return (
    <section className="page" aria-labelledby="escalations-title" aria-busy={list.loading}>
      <header className="page-header">
        <h1 id="escalations-title">Escalations</h1>
        <p className="muted">
          Systemic findings from the quality guardrails, each addressed to the engineering-leadership contact of its
          team. They are about the system — staffing, skills, code health, CI/CD, observability, process — never about a
          person.
        </p>
      </header>
      <div className="card filters">
        <label className="checkbox">
          <input type="checkbox" checked={all === 'true'} onChange={toggleAll} /> Include closed findings whose pattern
          is gone
        </label>
        {team && (
          <p className="meta">
            Team <code>{team}</code> only. <Link to="/escalations">Show every team</Link>
          </p>
        )}
      </div>
      {list.error !== undefined && (
        <ErrorNotice title="The escalations could not be loaded" error={list.error} onRetry={list.reload} />
      )}
      {list.loading && !list.data && <Loading label="Loading the escalations…" />}
      {list.data && items.length === 0 && (
        <EmptyState title="No escalations">
          <p>No guardrail is broken right now.</p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <TableWrap label="Escalations">
          <table className="escalation-table" data-testid="escalation-inbox">
            <thead>
              <tr>
                <th scope="col">Finding</th>
                <th scope="col">Team · component</th>
                <th scope="col">Severity</th>
                <th scope="col">State</th>
                <th scope="col">Addressed to</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id} data-id={e.id} className={e.active ? '' : 'inactive'}>
                  <td>
                    <Link to={escalationPath(e.id)}>{e.finding.pattern}</Link>
                  </td>
                  <td>
                    {e.finding.team}
                    {e.finding.component ? ` · ${e.finding.component}` : ''}
                  </td>
                  <td>
                    <span className={`badge severity-${e.finding.severity}`}>{e.finding.severity}</span>
                  </td>
                  <td>
                    {STATE_LABELS[e.state]}
                    {!e.active && <span className="meta"> (pattern gone)</span>}
                  </td>
                  <td className="addressed-to">{e.addressedTo?.name ?? '—'}</td>
                  <td>{formatDateTime(e.finding.lastSeen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
};

export const EscalationBriefPage = () => {
  const { id = '' } = useParams();
  const brief = useApi((signal) => qualityApi.brief(id, signal), [id]);
  useTitle(brief.data ? `Escalation: ${brief.data.finding.rule}` : 'Escalation');
  if (isForbidden(brief.error)) return <NoAccess forWhom="members and admins of the workspace" />;
  return (
    <section className="page" aria-busy={brief.loading}>
      <p>
        <Link to="/escalations">← All escalations</Link>
      </p>
      {brief.error !== undefined && (
        <ErrorNotice title="The escalation could not be loaded" error={brief.error} onRetry={brief.reload} />
      )}
      {brief.loading && !brief.data && <Loading label="Loading the brief…" />}
      {brief.data && <Brief brief={brief.data} onChanged={brief.reload} />}
    </section>
  );
};

const Brief = ({ brief, onChanged }: { brief: EscalationBrief; onChanged: () => void }) => {
  const f = brief.finding;
  return (
    <article className="stack-lg brief" data-testid="escalation-brief" data-state={brief.state}>
      <header className="page-header">
        <h1 data-testid="brief-pattern">{f.pattern}</h1>
        <p className="badges">
          <span className={`badge severity-${f.severity}`}>{f.severity}</span>
          <span className="badge badge-muted" data-testid="brief-state">
            {STATE_LABELS[brief.state]}
          </span>
          {!brief.active && <span className="badge badge-ok">Pattern no longer seen</span>}
          {brief.reopenedCount > 0 && <span className="badge badge-warn">Reopened {brief.reopenedCount}×</span>}
        </p>
        <dl className="brief-meta">
          <dt>Team · component</dt>
          <dd>
            <Link
              to={`/quality?team=${encodeURIComponent(f.team)}${f.component ? `&component=${encodeURIComponent(f.component)}` : ''}`}
            >
              {f.team}
              {f.component ? ` · ${f.component}` : ''}
            </Link>
          </dd>
          <dt>Guardrail broken</dt>
          <dd>{f.guardrail}</dd>
          <dt>Addressed to</dt>
          <dd data-testid="brief-addressed-to">
            {brief.addressedTo
              ? `${brief.addressedTo.name} (engineering leadership)`
              : 'No engineering-leadership contact in the charter'}
          </dd>
          <dt>Seen</dt>
          <dd>
            {formatDateTime(f.firstSeen)} – {formatDateTime(f.lastSeen)}
          </dd>
          {brief.planUrl && (
            <>
              <dt>Plan</dt>
              <dd>
                <a href={brief.planUrl} rel="noreferrer noopener" target="_blank" data-testid="brief-plan">
                  {brief.planUrl}
                </a>
              </dd>
            </>
          )}
          {brief.state === 'dismissed' && brief.reason && (
            <>
              <dt>Dismissed because</dt>
              <dd>{brief.reason}</dd>
            </>
          )}
        </dl>
      </header>

      <Lifecycle brief={brief} onChanged={onChanged} />

      <section className="card" aria-labelledby="b-evidence" data-testid="brief-evidence">
        <h2 id="b-evidence">Evidence</h2>
        <dl className="figures">
          {f.evidence.figures.map((fig) => (
            <div key={fig.label}>
              <dt>{fig.label}</dt>
              <dd>{fig.value}</dd>
            </div>
          ))}
        </dl>
        {f.evidence.trend.length > 0 && (
          <TableWrap label="Trend">
            <table className="trend-table">
              <caption>Trend by week</caption>
              <thead>
                <tr>
                  {f.evidence.trend.map((p) => (
                    <th key={p.week} scope="col">
                      {p.week.slice(5)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                <tr>
                  {f.evidence.trend.map((p) => (
                    <td key={p.week}>{p.value === null ? '—' : Math.round(p.value * 1000) / 1000}</td>
                  ))}
                </tr>
              </tbody>
            </table>
          </TableWrap>
        )}
        {f.evidence.links.length > 0 && (
          <>
            <h3>Behind it</h3>
            <ul className="evidence-links">
              {f.evidence.links.map((l) => (
                <li key={`${l.kind}:${l.id}`}>
                  <span className="badge badge-muted">{l.kind.replace('_', ' ')}</span>{' '}
                  {l.url ? (
                    <a href={l.url} rel="noreferrer noopener" target="_blank">
                      {l.label}
                    </a>
                  ) : l.kind === 'item' ? (
                    <Link to={`/items/${encodeURIComponent(l.id)}`}>{l.label}</Link>
                  ) : (
                    l.label
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <section className="card" aria-labelledby="b-causes" data-testid="brief-causes">
        <h2 id="b-causes">Likely root causes</h2>
        <ul className="causes">
          {f.causes.map((c) => (
            <li key={c.category} data-category={c.category}>
              <div className="cause-head">
                <strong>{CAUSE_LABELS[c.category] ?? c.category}</strong>
                <span>{Math.round(c.weight * 100)} %</span>
              </div>
              <div className="cause-bar" aria-hidden="true">
                <span style={{ width: `${Math.round(c.weight * 100)}%` }} />
              </div>
              <p className="meta">{c.reason}</p>
            </li>
          ))}
        </ul>
      </section>

      <section className="card" aria-labelledby="b-crossings">
        <h2 id="b-crossings">Boundary crossings that bear on it</h2>
        {brief.crossingCount === 0 ? (
          <p className="muted">No bug-triage or assignment decisions were made outside their lane here.</p>
        ) : (
          <>
            <p>
              {brief.crossingCount} bug-triage or assignment decision{brief.crossingCount === 1 ? '' : 's'} on{' '}
              {f.component ?? f.team} were made outside the lane the charter gives them.
            </p>
            <ul className="brief-crossings">
              {brief.crossings.map((c) => (
                <li key={c.eventId} data-domain={c.domain}>
                  <span className="meta">{formatDateTime(c.occurredAt)}</span> {c.sentence}
                  {c.itemKey && (
                    <>
                      {' '}
                      <Link to={`/items/${encodeURIComponent(c.itemKey)}`}>{c.itemKey}</Link>
                    </>
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <section className="card" aria-labelledby="b-history">
        <h2 id="b-history">History</h2>
        <ol className="brief-history" data-testid="brief-history">
          {brief.history.map((h, i) => (
            <li key={i}>
              {formatDateTime(h.at)}: {h.from ? `${STATE_LABELS[h.from]} → ` : ''}
              {STATE_LABELS[h.to]}
              {h.by === 'lanes' ? ' (by Lanes)' : ''}
              {h.reason ? ` — ${h.reason}` : ''}
            </li>
          ))}
        </ol>
      </section>
    </article>
  );
};

const Lifecycle = ({ brief, onChanged }: { brief: EscalationBrief; onChanged: () => void }) => {
  const { session } = useSession();
  const [pending, setPending] = useState<FindingState | null>(null);
  const [form, setForm] = useState<'action_planned' | 'dismissed' | null>(null);
  const [planUrl, setPlanUrl] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(undefined);

  const move = async (to: FindingState, extra: { planUrl?: string; reason?: string } = {}) => {
    setPending(to);
    setError(undefined);
    try {
      await qualityApi.transition(brief.id, { to, ...extra }, session.csrfToken);
      setForm(null);
      setPlanUrl('');
      setReason('');
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setPending(null);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form === 'action_planned') void move('action_planned', { planUrl: planUrl.trim() });
    if (form === 'dismissed') void move('dismissed', { reason: reason.trim() });
  };

  if (brief.transitions.length === 0) return null;
  return (
    <section className="card" aria-labelledby="b-lifecycle" data-testid="brief-lifecycle">
      <h2 id="b-lifecycle">Next step</h2>
      <div className="button-row">
        {brief.transitions.map((to) => (
          <button
            key={to}
            type="button"
            className={`button${to === 'dismissed' ? ' button-quiet' : ' button-primary'}`}
            disabled={pending !== null}
            onClick={() => {
              if (to === 'action_planned' || to === 'dismissed') setForm(to);
              else void move(to);
            }}
          >
            {pending === to ? 'Saving…' : ACTION_LABELS[to]}
          </button>
        ))}
      </div>
      {form && (
        <form className="lifecycle-form" onSubmit={submit}>
          {form === 'action_planned' ? (
            <div className="field">
              <label htmlFor="plan-url">Link to the tracker item that holds the plan</label>
              <input
                id="plan-url"
                type="url"
                required
                placeholder="https://…"
                value={planUrl}
                onChange={(e) => setPlanUrl(e.target.value)}
              />
            </div>
          ) : (
            <div className="field">
              <label htmlFor="dismiss-reason">Why is this not a problem to act on?</label>
              <textarea id="dismiss-reason" required value={reason} onChange={(e) => setReason(e.target.value)} />
            </div>
          )}
          <div className="button-row">
            <button type="submit" className="button button-primary" disabled={pending !== null}>
              {form === 'action_planned' ? 'Save the plan' : 'Dismiss'}
            </button>
            <button type="button" className="button button-quiet" onClick={() => setForm(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {error !== undefined && (
        <p className="notice notice-error" role="alert">
          {errorMessage(error)}
        </p>
      )}
    </section>
  );
};
