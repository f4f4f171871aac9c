import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { STAGE_LABELS, STAGES, type Stage } from '../api';
import { itemPath, portalApi, type PortalFilters, type PortalItemSummary } from '../portal.api';
import { EmptyState, ErrorNotice, formatNumber, Loading, StageBadge, Time, useApi, useTitle } from '../ui';

/** `/portal`: "where is my bug?" for people without a tracker seat. */

type Mine = 'reported' | 'followed';
const TEXT_KEYS = ['q', 'customer', 'reporter'] as const;

const readFilters = (params: URLSearchParams): PortalFilters => {
  const filters: PortalFilters = {};
  for (const key of TEXT_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filters[key] = value;
  }
  const stage = params.get('stage');
  if (stage && (STAGES as readonly string[]).includes(stage)) filters.stage = stage as Stage;
  const mine = params.get('mine');
  if (mine === 'reported' || mine === 'followed') filters.mine = mine;
  return filters;
};

const VIEWS: readonly { mine: Mine | null; label: string }[] = [
  { mine: null, label: 'All items' },
  { mine: 'reported', label: 'Items I reported' },
  { mine: 'followed', label: 'Items I follow' },
];

interface Extra {
  forFilters: string;
  items: PortalItemSummary[];
  nextCursor: string | null;
}

export const PortalSearchPage = () => {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const filters = useMemo(() => readFilters(params), [params]);
  const filtersKey = JSON.stringify(filters);
  const first = useApi((signal) => portalApi.search(filters, null, signal), [filtersKey]);
  const view = VIEWS.find((v) => v.mine === (filters.mine ?? null)) ?? VIEWS[0]!;
  useTitle(filters.mine ? view.label : 'Status portal');

  // A key or a link that names one visible item goes straight to it; Back returns to the search before it.
  const exact = first.data?.exact ?? null;
  useEffect(() => {
    if (exact && !first.loading) void navigate(itemPath(exact), { replace: true });
  }, [exact, first.loading, navigate]);

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
      const page = await portalApi.search(filters, nextCursor);
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

  const apply = (next: PortalFilters) => {
    const search = new URLSearchParams();
    if (filters.mine) search.set('mine', filters.mine);
    for (const key of [...TEXT_KEYS, 'stage'] as const) {
      const value = next[key]?.trim();
      if (value) search.set(key, value);
    }
    setParams(search);
  };

  const viewHref = (mine: Mine | null): string => {
    const search = new URLSearchParams(params);
    if (mine) search.set('mine', mine);
    else search.delete('mine');
    const qs = search.toString();
    return qs ? `/portal?${qs}` : '/portal';
  };

  const narrowed = TEXT_KEYS.some((k) => filters[k]) || filters.stage !== undefined;
  const goingToItem = exact !== null && !first.loading;

  return (
    <section className="page portal" aria-labelledby="portal-title">
      <header className="page-header">
        <h1 id="portal-title">Status portal</h1>
        <p className="muted">
          Find out where a bug, an incident or a request stands, in plain words, without a tracker account.
        </p>
      </header>

      <nav aria-label="Which items" className="portal-views">
        <ul>
          {VIEWS.map((v) => (
            <li key={v.label}>
              <Link
                to={viewHref(v.mine)}
                className="portal-view"
                aria-current={v.mine === (filters.mine ?? null) ? 'page' : undefined}
              >
                {v.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>

      <SearchForm filters={filters} onApply={apply} />

      <div aria-live="polite" className="results-status">
        {(first.loading || goingToItem) && <Loading label={goingToItem ? 'Opening the item…' : 'Searching…'} />}
        {!first.loading && !goingToItem && first.data && items.length > 0 && (
          <p className="muted" data-testid="portal-count">
            {formatNumber(items.length)} item{items.length === 1 ? '' : 's'}
            {nextCursor ? ' so far' : ''}, most recently updated first.
          </p>
        )}
      </div>
      {first.error !== undefined && (
        <ErrorNotice title="The search could not be done" error={first.error} onRetry={first.reload} />
      )}
      {!first.loading && first.data && items.length === 0 && (
        <NoResults mine={filters.mine ?? null} narrowed={narrowed} onClear={() => apply({})} />
      )}
      {items.length > 0 && !goingToItem && (
        <>
          <h2 id="portal-results-title" className="sr-only">
            {view.label === 'All items' ? 'Search results' : view.label}
          </h2>
          <ul
            className={`portal-results${first.loading ? ' stale' : ''}`}
            aria-labelledby="portal-results-title"
            aria-busy={first.loading}
            data-testid="portal-results"
          >
            {items.map((item) => (
              <ResultRow key={item.key} item={item} />
            ))}
          </ul>
          <div className="load-more">
            {more.error !== undefined && (
              <ErrorNotice title="More items could not be loaded" error={more.error} onRetry={loadMore} />
            )}
            {nextCursor && (
              <button type="button" className="button" onClick={loadMore} disabled={more.loading}>
                {more.loading ? 'Loading…' : 'Load more'}
              </button>
            )}
            {!nextCursor && items.length > 20 && <p className="muted">That is all of them.</p>}
          </div>
        </>
      )}
    </section>
  );
};

const ResultRow = ({ item }: { item: PortalItemSummary }) => (
  <li className="portal-result" data-key={item.key}>
    <Link to={itemPath(item.key)} className="portal-result-link">
      <span className="portal-result-key">{item.key}</span>
      <span className="portal-result-title">{item.title ?? 'Untitled item'}</span>
    </Link>
    <p className="portal-result-meta">
      <StageBadge stage={item.stage} label={item.stageLabel} />
      <span>
        Updated <Time iso={item.updatedAt} relativeTo="now" />
      </span>
      {item.customer && <span>For {item.customer}</span>}
    </p>
  </li>
);

const NoResults = ({ mine, narrowed, onClear }: { mine: Mine | null; narrowed: boolean; onClear: () => void }) => {
  if (!narrowed && mine === 'reported')
    return (
      <EmptyState title="You haven't reported anything yet">
        <p>Items reported with your e-mail address show up here, so you can check on them any time.</p>
      </EmptyState>
    );
  if (!narrowed && mine === 'followed')
    return (
      <EmptyState title="You don't follow any items yet">
        <p>Open an item and choose “Follow” to get an e-mail whenever its stage changes.</p>
      </EmptyState>
    );
  if (!narrowed) return <EmptyState title="There are no items to show yet" />;
  return (
    <EmptyState title="Nothing matches your search">
      <p>
        Check the key, try fewer or different words, or paste the whole link from the tracker or Slack.{' '}
        <button type="button" className="link-button" onClick={onClear}>
          Clear the search
        </button>
        .
      </p>
    </EmptyState>
  );
};

const SearchForm = ({ filters, onApply }: { filters: PortalFilters; onApply: (f: PortalFilters) => void }) => {
  const [draft, setDraft] = useState<PortalFilters>(filters);
  const filtersKey = JSON.stringify(filters);
  // Follow the address (Back, the view links, "Clear the search").
  useEffect(() => setDraft(filters), [filtersKey]);

  const set = (key: keyof PortalFilters, value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply(draft);
  };
  const anyFilter = TEXT_KEYS.some((k) => filters[k]) || filters.stage !== undefined;

  return (
    <form role="search" aria-label="Items" className="card portal-search" onSubmit={submit}>
      <div className="field">
        <label htmlFor="portal-q">Search by key, words, reporter, customer, or paste a tracker or Slack link</label>
        <div className="ask">
          <input
            id="portal-q"
            type="search"
            name="q"
            maxLength={500}
            autoComplete="off"
            placeholder="e.g. PAY-231, checkout error, or https://…"
            value={draft.q ?? ''}
            onChange={(e) => set('q', e.target.value)}
          />
          <button type="submit" className="button button-primary">
            Search
          </button>
        </div>
      </div>
      <fieldset className="portal-filters">
        <legend className="sr-only">Narrow the results</legend>
        <div className="field">
          <label htmlFor="portal-customer">Customer</label>
          <input
            id="portal-customer"
            name="customer"
            maxLength={200}
            autoComplete="off"
            value={draft.customer ?? ''}
            onChange={(e) => set('customer', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="portal-reporter">Reported by</label>
          <input
            id="portal-reporter"
            name="reporter"
            maxLength={320}
            autoComplete="off"
            aria-describedby="portal-reporter-hint"
            value={draft.reporter ?? ''}
            onChange={(e) => set('reporter', e.target.value)}
          />
          <span id="portal-reporter-hint" className="meta">
            Their e-mail address
          </span>
        </div>
        <div className="field">
          <label htmlFor="portal-stage">Stage</label>
          <select
            id="portal-stage"
            name="stage"
            value={draft.stage ?? ''}
            onChange={(e) => {
              const next = { ...draft, stage: (e.target.value || undefined) as Stage | undefined };
              setDraft(next);
              onApply(next);
            }}
          >
            <option value="">Any stage</option>
            {STAGES.map((s) => (
              <option key={s} value={s}>
                {STAGE_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        {anyFilter && (
          <button type="button" className="button button-quiet portal-clear" onClick={() => onApply({})}>
            Clear the search
          </button>
        )}
      </fieldset>
    </form>
  );
};
