import { api } from '../api';
import { EmptyState, ErrorNotice, isForbidden, Loading, NoAccess, TableWrap, Time, useApi, useTitle } from '../ui';

const detailsText = (details: unknown): string => {
  if (details === null || details === undefined) return '';
  if (typeof details === 'string') return details;
  return JSON.stringify(details);
};

export const AuditPage = () => {
  useTitle('Audit log');
  const { data, error, loading, reload } = useApi((signal) => api.audit(signal), []);
  if (isForbidden(error)) return <NoAccess />;
  return (
    <section className="page" aria-labelledby="audit-title" aria-busy={loading}>
      <header className="page-header">
        <h1 id="audit-title">Audit log</h1>
        <p className="muted">Every admin action: user and token changes, charter reloads. Newest first.</p>
      </header>
      {error !== undefined && <ErrorNotice title="The audit log could not be loaded" error={error} onRetry={reload} />}
      {loading && !data && <Loading label="Loading the audit log…" />}
      {data && data.entries.length === 0 && (
        <EmptyState title="Nothing recorded yet">Admin actions appear here as they happen.</EmptyState>
      )}
      {data && data.entries.length > 0 && (
        <div className="card flush">
          <TableWrap label="Audit log">
            <table>
              <caption className="sr-only">Audit log</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {data.entries.map((e) => (
                  <tr key={e.id}>
                    <td className="nowrap">
                      <Time iso={e.at} />
                    </td>
                    <td>{e.actor ?? <span className="muted">system</span>}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>{e.target ?? <span className="muted">—</span>}</td>
                    <td className="details-cell">
                      <code>{detailsText(e.details)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </div>
      )}
    </section>
  );
};
