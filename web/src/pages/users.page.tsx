import { api } from '../api';
import {
  EmptyState,
  ErrorNotice,
  isForbidden,
  Loading,
  NoAccess,
  RoleBadge,
  TableWrap,
  Time,
  useApi,
  useTitle,
} from '../ui';

export const UsersPage = () => {
  useTitle('Users');
  const { data, error, loading, reload } = useApi((signal) => api.users(signal), []);
  if (isForbidden(error)) return <NoAccess />;
  return (
    <section className="page" aria-labelledby="users-title" aria-busy={loading}>
      <header className="page-header">
        <h1 id="users-title">Users</h1>
        <p className="muted">
          People who can sign in to Lanes and their roles. Add, remove or change them with{' '}
          <code>lanes user add|remove|set-role</code>.
        </p>
      </header>
      {error !== undefined && <ErrorNotice title="The users could not be loaded" error={error} onRetry={reload} />}
      {loading && !data && <Loading label="Loading users…" />}
      {data && data.users.length === 0 && <EmptyState title="No users yet" />}
      {data && data.users.length > 0 && (
        <div className="card flush">
          <TableWrap label="Users">
            <table data-testid="users-table">
              <caption className="sr-only">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">E-mail</th>
                  <th scope="col">Role</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {data.users.map((u) => (
                  <tr key={u.id}>
                    <th scope="row">{u.name}</th>
                    <td>{u.email}</td>
                    <td>
                      <RoleBadge role={u.role} />
                    </td>
                    <td>
                      <Time iso={u.createdAt} />
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
