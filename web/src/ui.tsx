import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError, KIND_LABELS, STAGE_LABELS, type ItemKind, type Stage, type UserRole } from './api';

/** Shared building blocks: data loading, states a person understands, badges and formats. */

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change; aborts the previous request; keeps the last data while reloading. */
export const useApi = <T,>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> => {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ data: s.data, error: undefined, loading: true }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ data: undefined, error, loading: false });
      },
    );
    return () => controller.abort();
    // The caller lists what `load` depends on, as with useEffect.
  }, [...deps, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...state, reload };
};

export const useTitle = (title: string): void => {
  useEffect(() => {
    document.title = title ? `${title} · Lanes` : 'Lanes';
  }, [title]);
};

export const errorCode = (error: unknown): string | null => (error instanceof ApiError ? error.code : null);

export const isForbidden = (error: unknown): boolean => error instanceof ApiError && error.status === 403;

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : 'Something unexpected went wrong in the page.';

export const Loading = ({ label = 'Loading…' }: { label?: string }) => (
  <div className="loading" role="status" aria-live="polite">
    <span className="spinner" aria-hidden="true" />
    {label}
  </div>
);

export const ErrorNotice = ({ error, title, onRetry }: { error: unknown; title: string; onRetry?: () => void }) => {
  const code = errorCode(error);
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">{title}</p>
      <p>
        {errorMessage(error)}
        {code && (
          <>
            {' '}
            <code className="error-code">{code}</code>
          </>
        )}
      </p>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
};

export const EmptyState = ({ title, children }: { title: string; children?: ReactNode }) => (
  <div className="empty" role="status">
    <p className="empty-title">{title}</p>
    {children && <div className="empty-body">{children}</div>}
  </div>
);

/** A page the API refused (403); `forWhom` names the roles the page is for. */
export const NoAccess = ({ forWhom = 'Lanes administrators' }: { forWhom?: string }) => {
  useTitle("You don't have access");
  return (
    <section className="page narrow" aria-labelledby="no-access-title">
      <h1 id="no-access-title">You don&apos;t have access</h1>
      <p>
        This page is for {forWhom}. Your role doesn&apos;t include it. If you need it, ask an admin of your workspace to
        change your role.
      </p>
      <p>
        {/* `/` is the overview for members and the status portal for stakeholders. */}
        <Link to="/">Back to the start page</Link>
      </p>
    </section>
  );
};

export const TableWrap = ({ label, children }: { label: string; children: ReactNode }) => (
  // A focusable region so keyboard users can scroll a wide table on a narrow screen.
  <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
    {children}
  </div>
);

export const StageBadge = ({ stage, label }: { stage: Stage; label?: string }) => (
  <span className={`badge stage-${stage}`}>{label ?? STAGE_LABELS[stage] ?? stage}</span>
);

export const KindBadge = ({ kind }: { kind: ItemKind }) => (
  <span className={`badge kind kind-${kind}`}>{KIND_LABELS[kind] ?? kind}</span>
);

const SEVERITY_CLASS: Record<string, string> = { critical: 'sev-critical', high: 'sev-high', medium: 'sev-medium' };

export const SeverityBadge = ({ severity }: { severity: string | null }) =>
  severity ? (
    <span className={`badge sev ${SEVERITY_CLASS[severity.toLowerCase()] ?? 'sev-low'}`}>{severity}</span>
  ) : (
    <span className="muted">—</span>
  );

export const RoleBadge = ({ role }: { role: UserRole | string }) => (
  <span className={`badge role role-${role}`}>{role}</span>
);

const numberFormat = new Intl.NumberFormat('en-US');
export const formatNumber = (n: number): string => numberFormat.format(n);

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export const formatDateTime = (iso: string | null): string => {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFormat.format(d);
};

export const formatDate = (iso: string | null): string => {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFormat.format(d);
};

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "3 hours ago", "in 2 days"; seconds round to "now". */
export const formatRelative = (iso: string | null, now = Date.now()): string => {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const seconds = (t - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return 'just now';
};

const unitFormats = new Map<Intl.RelativeTimeFormatUnit, Intl.NumberFormat>();
const unitFormat = (unit: Intl.RelativeTimeFormatUnit): Intl.NumberFormat => {
  let format = unitFormats.get(unit);
  if (!format)
    unitFormats.set(unit, (format = new Intl.NumberFormat('en', { style: 'unit', unit, unitDisplay: 'long' })));
  return format;
};

/** A length of time in words: "3 hours", "2 days"; under a minute is "less than a minute". */
export const formatDuration = (seconds: number): string => {
  const abs = Math.abs(seconds);
  for (const [unit, size] of UNITS) {
    if (abs >= size) return unitFormat(unit).format(Math.round(abs / size));
  }
  return 'less than a minute';
};

/** A time with its exact value on hover and for assistive technology. */
export const Time = ({ iso, relativeTo }: { iso: string | null; relativeTo?: 'now' }) =>
  iso ? (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relativeTo ? formatRelative(iso) : formatDateTime(iso)}
    </time>
  ) : (
    <span className="muted">—</span>
  );
