import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api, type DecisionRights, type Party, type WhoDecidesAnswer } from '../api';
import { useDirectory } from '../directory';
import { EmptyState, ErrorNotice, formatDate, formatRelative, Loading, TableWrap, useApi, useTitle } from '../ui';

const EXAMPLES = [
  'Who decides the priority of a bug?',
  'Who decides which tech debt we pay down?',
  'Who picks the next value slice?',
  'Who sets the SLO targets?',
];

export const DecisionsPage = () => {
  useTitle('Decision rights');
  const { data, error, loading, reload } = useApi((signal) => api.rights(signal), []);
  const [team, setTeam] = useState('');

  return (
    <section className="page" aria-labelledby="decisions-title" aria-busy={loading}>
      <header className="page-header">
        <h1 id="decisions-title">Decision rights</h1>
        <p className="muted">
          Who decides, who is consulted and who is informed, per team, as declared in the charter,{' '}
          <code>lanes.yaml</code>.
        </p>
      </header>

      <WhoDecides />

      {error !== undefined && (
        <ErrorNotice title="The decision rights could not be loaded" error={error} onRetry={reload} />
      )}
      {loading && !data && <Loading label="Loading the decision rights…" />}
      {data && (
        <>
          <Delegations rights={data} />
          <section className="card" aria-labelledby="matrix-title">
            <div className="card-header">
              <h2 id="matrix-title">Matrix</h2>
              {data.teams.length > 1 && (
                <div className="field field-inline">
                  <label htmlFor="matrix-team">Team</label>
                  <select id="matrix-team" value={team} onChange={(e) => setTeam(e.target.value)}>
                    <option value="">All teams</option>
                    {data.teams.map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.name}
                      </option>
                    ))}
                  </select>
                </div>
              )}
            </div>
            <p className="legend muted" aria-hidden="true">
              <span className="raci raci-d">D</span> decides <span className="raci raci-c">C</span> is consulted{' '}
              <span className="raci raci-i">I</span> is informed
            </p>
            <Matrix rights={data} teamId={team} />
          </section>
        </>
      )}
    </section>
  );
};

const WhoDecides = () => {
  const [params, setParams] = useSearchParams();
  const asked = params.get('q') ?? '';
  const [question, setQuestion] = useState(asked);
  const [state, setState] = useState<
    | { status: 'idle' }
    | { status: 'asking' }
    | { status: 'answered'; answer: WhoDecidesAnswer }
    | { status: 'failed'; error: unknown }
  >({ status: 'idle' });
  const inputRef = useRef<HTMLInputElement>(null);

  // The question lives in the address, so an answer can be shared and survives a reload.
  useEffect(() => {
    setQuestion(asked);
    if (!asked.trim()) {
      setState({ status: 'idle' });
      return;
    }
    const controller = new AbortController();
    setState({ status: 'asking' });
    api.whoDecides(asked, controller.signal).then(
      (answer) => setState({ status: 'answered', answer }),
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ status: 'failed', error });
      },
    );
    return () => controller.abort();
  }, [asked]);

  const ask = (q: string) => {
    const next = new URLSearchParams(params);
    if (q.trim()) next.set('q', q.trim());
    else next.delete('q');
    setParams(next, { replace: true });
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    ask(question);
  };

  return (
    <section className="card who-decides" aria-labelledby="who-decides-title">
      <h2 id="who-decides-title">Who decides…?</h2>
      <form className="ask" onSubmit={submit} role="search" aria-label="Who decides">
        <label htmlFor="who-decides-q" className="sr-only">
          Your question about a decision
        </label>
        <input
          id="who-decides-q"
          ref={inputRef}
          type="search"
          name="q"
          maxLength={200}
          placeholder="e.g. who decides the priority of a bug?"
          value={question}
          onChange={(e) => setQuestion(e.target.value)}
        />
        <button type="submit" className="button button-primary" disabled={!question.trim()}>
          Ask
        </button>
      </form>
      <div className="examples">
        <span className="muted">Try:</span>
        {EXAMPLES.map((q) => (
          <button
            key={q}
            type="button"
            className="chip chip-button"
            onClick={() => {
              ask(q);
              inputRef.current?.focus();
            }}
          >
            {q}
          </button>
        ))}
      </div>
      <div className="answer" aria-live="polite" aria-atomic="true" data-testid="who-decides-answer">
        {state.status === 'asking' && <Loading label="Looking it up…" />}
        {state.status === 'failed' && <ErrorNotice title="The question could not be answered" error={state.error} />}
        {state.status === 'answered' && <Answer answer={state.answer} onAsk={ask} />}
      </div>
    </section>
  );
};

const Answer = ({ answer, onAsk }: { answer: WhoDecidesAnswer; onAsk: (q: string) => void }) => {
  const others = answer.closest.filter((d) => d.id !== answer.matched?.id);
  return (
    <div className="answer-body">
      {answer.matched ? (
        <p className="answer-domain">
          <strong>{answer.matched.title}</strong> <code className="domain-id">{answer.matched.id}</code>
          <span className="muted"> — {answer.matched.question}</span>
        </p>
      ) : (
        <p className="answer-domain">
          <strong>No decision domain matched that question.</strong>
        </p>
      )}
      <p className="answer-text">{answer.text}</p>
      {others.length > 0 && (
        <div className="closest">
          <p className="muted">{answer.matched ? 'Related domains:' : 'Did you mean one of these?'}</p>
          <ul className="chips">
            {others.map((d) => (
              <li key={d.id}>
                <button type="button" className="chip chip-button" onClick={() => onAsk(d.question)}>
                  {d.title} <code>{d.id}</code>
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
};

const Delegations = ({ rights }: { rights: DecisionRights }) => {
  const directory = useDirectory();
  const teamName = (id: string | null) => (id ? (rights.teams.find((t) => t.id === id)?.name ?? id) : 'All teams');
  const domainTitle = (id: string) => rights.domains.find((d) => d.id === id)?.title ?? id;
  return (
    <section className="card" aria-labelledby="delegations-title">
      <h2 id="delegations-title">Delegations in force</h2>
      {rights.delegations.length === 0 ? (
        <EmptyState title="No delegations in force">
          Every decision sits with its owner from the charter. Time-boxed hand-overs appear here.
        </EmptyState>
      ) : (
        <TableWrap label="Delegations in force">
          <table>
            <caption className="sr-only">Delegations in force</caption>
            <thead>
              <tr>
                <th scope="col">Decision</th>
                <th scope="col">Team</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Until</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {rights.delegations.map((d, i) => (
                <tr key={`${d.domain}-${d.team ?? '*'}-${i}`}>
                  <th scope="row">
                    {domainTitle(d.domain)} <code className="domain-id">{d.domain}</code>
                  </th>
                  <td>{teamName(d.team)}</td>
                  <td>{directory.person(d.from)}</td>
                  <td>{directory.person(d.to)}</td>
                  <td>
                    <time dateTime={d.until}>{formatDate(d.until)}</time>{' '}
                    <span className="meta">({formatRelative(d.until)})</span>
                  </td>
                  <td>{d.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
};

const PartyNames = ({ party, max = 3 }: { party: Party; max?: number }) => {
  if (party.people.length === 0) return null;
  const shown = party.people.slice(0, max).map((p) => p.name);
  const more = party.people.length - shown.length;
  return (
    <span className="party-people">
      {shown.join(', ')}
      {more > 0 && ` +${more}`}
    </span>
  );
};

const Matrix = ({ rights, teamId }: { rights: DecisionRights; teamId: string }) => {
  const teams = teamId ? rights.teams.filter((t) => t.id === teamId) : rights.teams;
  const cells = useMemo(() => new Map(rights.cells.map((c) => [`${c.domain}/${c.team}`, c])), [rights.cells]);
  if (rights.domains.length === 0 || teams.length === 0)
    return <EmptyState title="No decision domains">The charter declares no domains or teams.</EmptyState>;
  return (
    <TableWrap label="Decision rights by domain and team">
      <table className="matrix">
        <caption className="sr-only">Decision rights by domain and team</caption>
        <thead>
          <tr>
            <th scope="col">Decision</th>
            {teams.map((t) => (
              <th scope="col" key={t.id}>
                {t.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rights.domains.map((d) => (
            <tr key={d.id}>
              <th scope="row" className="domain-cell">
                <span className="domain-title">{d.title}</span>
                <code className="domain-id">{d.id}</code>
                <span className="meta block">{d.question}</span>
              </th>
              {teams.map((t) => {
                const cell = cells.get(`${d.id}/${t.id}`);
                if (!cell)
                  return (
                    <td key={t.id} className="muted">
                      Not declared
                    </td>
                  );
                return (
                  <td key={t.id} className="rights-cell">
                    <p>
                      <span className="raci raci-d" aria-hidden="true">
                        D
                      </span>
                      <span className="sr-only">Decides: </span>
                      <strong>{cell.decides.label}</strong> <PartyNames party={cell.decides} />
                    </p>
                    {cell.consulted.length > 0 && (
                      <p>
                        <span className="raci raci-c" aria-hidden="true">
                          C
                        </span>
                        <span className="sr-only">Consulted: </span>
                        {cell.consulted.map((p) => p.label).join(', ')}
                      </p>
                    )}
                    {cell.informed.length > 0 && (
                      <p>
                        <span className="raci raci-i" aria-hidden="true">
                          I
                        </span>
                        <span className="sr-only">Informed: </span>
                        {cell.informed.map((p) => p.label).join(', ')}
                      </p>
                    )}
                    {cell.delegations.map((del, i) => (
                      <p key={i} className="delegated">
                        Delegated from {del.from} to <strong>{del.to}</strong> until{' '}
                        <time dateTime={del.until}>{formatDate(del.until)}</time>
                      </p>
                    ))}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
};
