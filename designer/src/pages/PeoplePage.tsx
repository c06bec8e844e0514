// People and roles: accounts, their role grants per tenant (admin, designer, operator, approver,
// viewer; "*" is every tenant), adding people with a one-time password; and my API tokens.
import { X } from 'lucide-react';
import { useState, type FormEvent, type ReactNode } from 'react';
import { abilities, ROLES, type Role } from '../access.ts';
import { api } from '../api.ts';
import { useSession } from '../context.tsx';
import { ago, Empty, ErrorBanner, PageHeader, Spinner, useAction, useAsync } from '../ui/kit.tsx';

export function PeoplePage() {
  const { grants } = useSession();
  const can = abilities(grants);
  const people = useAsync(() => api.people(), []);
  const tenants = useAsync(() => api.tenantList().then((ts) => ts.map((t) => t.name)).catch(() => [] as string[]), []);
  const [adding, setAdding] = useState(false);
  const { error, notice, setNotice, act } = useAction(people.reload);
  const tenantChoices = ['*', ...(tenants.data ?? [])].filter((t) => can.adminOf(t) && (t !== '*' || can.manageAccounts));

  return (
    <div className="page" data-page="people">
      <PageHeader
        title="People and roles"
        subtitle="Who may design, run, approve and see what, per tenant."
        actions={can.manageAccounts && !adding && (
          <button className="btn btn-primary" onClick={() => setAdding(true)}>
            Add a person
          </button>
        )}
      />
      {adding && <AccountForm tenants={tenantChoices} onDone={(msg) => { setAdding(false); if (msg) { setNotice(msg); people.reload(); } }} />}
      {notice && <div className="banner banner-ok" role="status">{notice}</div>}
      <ErrorBanner error={error ?? people.error} onRetry={people.reload} />
      {!people.data ? (
        <Spinner />
      ) : people.data.length === 0 ? (
        <Empty title="Nobody here yet" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Person</th>
              <th>Roles</th>
              <th>Groups</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {people.data.map((a) => (
              <tr key={a.id} data-person={a.email} className={a.disabled ? 'row-disabled' : undefined}>
                <td>
                  <strong>{a.name || a.email}</strong>
                  <div className="muted small">{a.email}</div>
                  {a.disabled && <span className="badge status-failed">disabled</span>}
                </td>
                <td>
                  <ul className="grants">
                    {a.grants.map((g) => (
                      <li key={g.id} className="chip" data-grant={`${g.tenant}:${g.role}`}>
                        {g.role} <span className="muted">on {g.tenant === '*' ? 'every tenant' : g.tenant}</span>
                        {g.scope && <span className="muted small"> ({[...(g.scope.department ?? []), ...(g.scope.country ?? [])].join(', ')})</span>}
                        {can.adminOf(g.tenant) && g.id !== undefined && (
                          <button className="chip-x" aria-label={`Revoke ${g.role} on ${g.tenant} from ${a.email}`} onClick={() => act(() => api.revoke(a.id, g.id!), `Revoked ${g.role} on ${g.tenant}`)}>
                            <X size={12} aria-hidden />
                          </button>
                        )}
                      </li>
                    ))}
                  </ul>
                  {tenantChoices.length > 0 && <GrantAdder tenants={tenantChoices} onAdd={(g) => act(() => api.grant(a.id, g), `Granted ${g.role} on ${g.tenant} to ${a.email}`)} />}
                </td>
                <td className="small">{a.groups.join(', ') || '—'}</td>
                <td className="row-actions">
                  {can.manageAccounts && (
                    <button className="btn btn-small" onClick={() => act(() => api.updateAccount(a.id, { disabled: !a.disabled }), a.disabled ? `Enabled ${a.email}` : `Disabled ${a.email}`)}>
                      {a.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <TokensPanel />
    </div>
  );
}

function GrantAdder({ tenants, onAdd }: { tenants: string[]; onAdd: (g: { tenant: string; role: Role }) => void }) {
  const [tenant, setTenant] = useState(tenants.find((t) => t !== '*') ?? tenants[0]!);
  const [role, setRole] = useState<Role>('viewer');
  return (
    <GrantChoice tenants={tenants} role={role} setRole={setRole} tenant={tenant} setTenant={setTenant}>
      <button className="btn btn-small" onClick={() => onAdd({ tenant, role })}>
        Grant
      </button>
    </GrantChoice>
  );
}

function AccountForm({ tenants, onDone }: { tenants: string[]; onDone: (message?: string) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [tenant, setTenant] = useState(tenants.find((t) => t !== '*') ?? '*');
  const [error, setError] = useState<unknown>();
  const [oneTime, setOneTime] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const made = await api.createAccount({ email, name: name || undefined, grants: [{ tenant, role }] });
      if (made.oneTimePassword) setOneTime(made.oneTimePassword);
      else onDone(`Added ${email}`);
    } catch (err) {
      setError(err);
    }
  };
  if (oneTime)
    return (
      <div className="card form-card" data-one-time-password>
        <h2>{email} can sign in now</h2>
        <p>
          One-time password (shown only now; they choose their own at first sign-in): <code className="secret-once">{oneTime}</code>
        </p>
        <button className="btn btn-primary" onClick={() => onDone(`Added ${email}`)}>
          Done
        </button>
      </div>
    );
  return (
    <form className="card form-card" onSubmit={submit} aria-label="Add a person">
      <h2>Add a person</h2>
      <label className="field">
        <span className="field-label">Email</span>
        <input type="email" name="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span className="field-label">Name</span>
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <div className="field">
        <span className="field-label">First role</span>
        <GrantChoice tenants={tenants} role={role} setRole={setRole} tenant={tenant} setTenant={setTenant} />
      </div>
      <ErrorBanner error={error} />
      <div className="row-actions">
        <button className="btn btn-primary" type="submit" data-action="create-account">
          Add
        </button>
        <button className="btn" type="button" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function GrantChoice({ tenants, role, setRole, tenant, setTenant, children }: { tenants: string[]; role: Role; setRole: (r: Role) => void; tenant: string; setTenant: (t: string) => void; children?: ReactNode }) {
  return (
    <div className="grant-adder">
      <select value={role} onChange={(e) => setRole(e.target.value as Role)} aria-label="Role">
        {ROLES.map((r) => (
          <option key={r}>{r}</option>
        ))}
      </select>
      <select value={tenant} onChange={(e) => setTenant(e.target.value)} aria-label="Tenant">
        {tenants.map((t) => (
          <option key={t} value={t}>
            {t === '*' ? 'every tenant' : t}
          </option>
        ))}
      </select>
      {children}
    </div>
  );
}

/** My API tokens: for scripts and CI (Authorization: Bearer ...); the value is shown once. */
export function TokensPanel() {
  const tokens = useAsync(() => api.tokens(), []);
  const [name, setName] = useState('');
  const [made, setMade] = useState<{ name: string; token: string }>();
  const [error, setError] = useState<unknown>();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      setMade(await api.createToken(name));
      setName('');
      tokens.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="card tokens" aria-label="My API tokens">
      <h2>My API tokens</h2>
      <p className="muted small">For scripts and CI: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts with your roles.</p>
      {made && (
        <div className="banner banner-ok" data-new-token>
          <div>
            Token “{made.name}” (copy it now, it is not shown again): <code className="secret-once">{made.token}</code>
          </div>
        </div>
      )}
      <ErrorBanner error={error ?? tokens.error} />
      {(tokens.data ?? []).length > 0 && (
        <ul className="token-list">
          {tokens.data!.map((t) => (
            <li key={t.id} data-token={t.name}>
              <strong>{t.name}</strong> <span className="muted small">created {ago(t.createdAt)}{t.expiresAt ? ` · expires ${new Date(t.expiresAt).toLocaleDateString()}` : ''}</span>{' '}
              <button className="btn btn-small btn-ghost" onClick={() => api.revokeToken(t.id).then(tokens.reload, setError)} aria-label={`Revoke token ${t.name}`}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="inline-form" onSubmit={create}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="What is it for?" aria-label="Token name" required />
        <button className="btn btn-small" type="submit">
          Create token
        </button>
      </form>
    </section>
  );
}
