import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, KIND_LABELS, KINDS, STAGE_LABELS, STAGES, type ItemFilters, type ItemSummaryDto } from '../api';
import { useDirectory, type Directory } from '../directory';
import {
  EmptyState,
  ErrorNotice,
  formatNumber,
  KindBadge,
  Loading,
  SeverityBadge,
  StageBadge,
  TableWrap,
  Time,
  useApi,
  useTitle,
} from '../ui';

const FILTER_KEYS = ['team', 'kind', 'stage', 'component', 'severity', 'q'] as const;

const readFilters = (params: URLSearchParams): ItemFilters => {
  const filters: ItemFilters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filters[key] = value;
  }
  return filters;
};

interface Extra {
  forFilters: string;
  items: ItemSummaryDto[];
  nextCursor: string | null;
}

export const ItemsPage = () => {
  useTitle('Items');
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => readFilters(params), [params]);
  const filtersKey = JSON.stringify(filters);
  const first = useApi((signal) => api.items(filters, null, signal), [filtersKey]);
  const directory = useDirectory();

  // Pages fetched with "Load more", kept only while the filters stay the same.
  const [extra, setExtra] = useState<Extra | null>(null);
  const [more, setMore] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: undefined });
  useEffect(() => {
    setExtra(null);
    setMore({ loading: false, error: undefined });
  }, [filtersKey]);

  const pages = extra?.forFilters === filtersKey ? extra : null;
  const items = first.data ? [...first.data.items, ...(pages?.items ?? [])] : [];
  const nextCursor = pages ? pages.nextCursor : (first.data?.nextCursor ?? null);

  const loadMore = async () => {
    if (!nextCursor) return;
    setMore({ loading: true, error: undefined });
    try {
      const page = await api.items(filters, nextCursor);
      setExtra({
        forFilters: filtersKey,
        items: [...(pages?.items ?? []), ...page.items],
        nextCursor: page.nextCursor,
      });
      setMore({ loading: false, error: undefined });
    } catch (error) {
      setMore({ loading: false, error });
    }
  };

  const setFilter = (key: (typeof FILTER_KEYS)[number], value: string) => {
    const next = new URLSearchParams(params);
    if (value.trim()) next.set(key, value.trim());
    else next.delete(key);
    if (key === 'team') next.delete('component');
    setParams(next, { replace: key === 'q' });
  };

  const teams = directory.teams;
  const components = [
    ...new Set(teams.filter((t) => !filters.team || t.id === filters.team).flatMap((t) => t.components)),
  ].sort();
  const severities = directory.severities;
  const anyFilter = Object.keys(filters).length > 0;

  return (
    <section className="page" aria-labelledby="items-title">
      <header className="page-header">
        <h1 id="items-title">Items</h1>
        <p className="muted">Bugs, incidents, tech debt, features and tasks from every connected tracker.</p>
      </header>

      <div className="card filters">
        <SearchBox value={filters.q ?? ''} onSearch={(q) => setFilter('q', q)} />
        <div className="filter-row">
          <Select
            id="f-team"
            label="Team"
            value={filters.team}
            options={teams.map((t) => [t.id, t.name])}
            onChange={(v) => setFilter('team', v)}
          />
          <Select
            id="f-kind"
            label="Kind"
            value={filters.kind}
            options={KINDS.map((k) => [k, KIND_LABELS[k]])}
            onChange={(v) => setFilter('kind', v)}
          />
          <Select
            id="f-stage"
            label="Stage"
            value={filters.stage}
            options={STAGES.map((s) => [s, STAGE_LABELS[s]])}
            onChange={(v) => setFilter('stage', v)}
          />
          <Select
            id="f-component"
            label="Component"
            value={filters.component}
            options={components.map((c) => [c, c])}
            onChange={(v) => setFilter('component', v)}
          />
          <Select
            id="f-severity"
            label="Severity"
            value={filters.severity}
            options={severities.map((s) => [s, s])}
            onChange={(v) => setFilter('severity', v)}
          />
          {anyFilter && (
            <button
              type="button"
              className="button button-quiet clear"
              onClick={() => setParams(new URLSearchParams())}
            >
              Clear filters
            </button>
          )}
        </div>
      </div>

      <div aria-live="polite" className="results-status">
        {first.loading && <Loading label="Loading items…" />}
        {!first.loading && first.data && items.length > 0 && (
          <p className="muted">
            Showing {formatNumber(items.length)} item{items.length === 1 ? '' : 's'}
            {nextCursor ? ' (more available)' : ''}, most recently updated first.
          </p>
        )}
      </div>
      {first.error !== undefined && (
        <ErrorNotice title="The items could not be loaded" error={first.error} onRetry={first.reload} />
      )}
      {!first.loading && first.data && items.length === 0 && (
        <EmptyState title={anyFilter ? 'No items match these filters' : 'No items yet'}>
          {anyFilter ? (
            <p>
              Try other words, or{' '}
              <button type="button" className="link-button" onClick={() => setParams(new URLSearchParams())}>
                clear all filters
              </button>
              .
            </p>
          ) : (
            <p>Items appear once a tracker is connected or events are sent to the API.</p>
          )}
        </EmptyState>
      )}
      {items.length > 0 && (
        <>
          <ItemsTable items={items} directory={directory} stale={first.loading} />
          <div className="load-more">
            {more.error !== undefined && (
              <ErrorNotice title="More items could not be loaded" error={more.error} onRetry={loadMore} />
            )}
            {nextCursor && (
              <button type="button" className="button" onClick={loadMore} disabled={more.loading}>
                {more.loading ? 'Loading…' : 'Load more'}
              </button>
            )}
            {!nextCursor && items.length > 50 && <p className="muted">That is all of them.</p>}
          </div>
        </>
      )}
    </section>
  );
};

const SearchBox = ({ value, onSearch }: { value: string; onSearch: (q: string) => void }) => {
  const [text, setText] = useState(value);
  const search = useRef(onSearch);
  useEffect(() => {
    search.current = onSearch;
  });
  useEffect(() => setText(value), [value]);
  // Typing searches after a short pause; Enter searches at once.
  useEffect(() => {
    if (text.trim() === value) return;
    const timer = setTimeout(() => search.current(text), 400);
    return () => clearTimeout(timer);
  }, [text, value]);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onSearch(text);
  };
  return (
    <form role="search" aria-label="Items" className="ask" onSubmit={submit}>
      <label htmlFor="items-q" className="sr-only">
        Search items by key or title
      </label>
      <input
        id="items-q"
        type="search"
        name="q"
        maxLength={200}
        placeholder="Search by key or title, e.g. PAY-12 or checkout"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" className="button button-primary">
        Search
      </button>
    </form>
  );
};

const Select = ({
  id,
  label,
  value,
  options,
  onChange,
}: {
  id: string;
  label: string;
  value: string | undefined;
  options: [string, string][];
  onChange: (value: string) => void;
}) => {
  // A value from the address that is not among the options still shows, so the filter is visible.
  const all = value && !options.some(([v]) => v === value) ? [...options, [value, value] as [string, string]] : options;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {all.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
};

const ItemsTable = ({ items, directory, stale }: { items: ItemSummaryDto[]; directory: Directory; stale: boolean }) => (
  <div className={`card flush${stale ? ' stale' : ''}`} aria-busy={stale}>
    <TableWrap label="Items">
      <table className="items-table" data-testid="items-table">
        <caption className="sr-only">Items</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Title</th>
            <th scope="col">Kind</th>
            <th scope="col">Stage</th>
            <th scope="col">Severity</th>
            <th scope="col">Team</th>
            <th scope="col">Component</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.key}>
              <th scope="row" className="key">
                <Link to={`/items/${encodeURIComponent(item.key)}`}>{item.key}</Link>
              </th>
              <td className="title-cell" data-label="Title">
                {item.title}
              </td>
              <td data-label="Kind">
                <KindBadge kind={item.kind} />
              </td>
              <td data-label="Stage">
                <StageBadge stage={item.stage} label={item.stageLabel} />
              </td>
              <td data-label="Severity">
                <SeverityBadge severity={item.severity} />
              </td>
              <td data-label="Team">{directory.team(item.team) ?? <span className="muted">—</span>}</td>
              <td data-label="Component">{item.component ?? <span className="muted">—</span>}</td>
              <td data-label="Updated" className="nowrap">
                <Time iso={item.updatedAt} relativeTo="now" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  </div>
);
