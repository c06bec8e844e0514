// Tenant connections: connect a tenant (app registration with a secret or a certificate), test the
// connection (a token, and the Graph permissions the catalog needs that the app lacks), remove.
import { useState, type FormEvent } from 'react';
import { abilities } from '../access.ts';
import { api, type NewTenant, type TenantInfo, type TenantTest } from '../api.ts';
import { useSession } from '../context.tsx';
import { Empty, ErrorBanner, PageHeader, Spinner, useAction, useAsync } from '../ui/kit.tsx';

export function TenantsPage() {
  const { grants } = useSession();
  const can = abilities(grants);
  const list = useAsync(() => api.tenantList(), []);
  const [adding, setAdding] = useState(false);
  const [tests, setTests] = useState<Record<string, TenantTest | 'testing' | { error: unknown }>>({});
  const { error, act } = useAction(list.reload);

  const test = async (name: string) => {
    setTests((t) => ({ ...t, [name]: 'testing' }));
    try {
      const r = await api.testTenant(name);
      setTests((t) => ({ ...t, [name]: r }));
    } catch (err) {
      setTests((t) => ({ ...t, [name]: { error: err } }));
    }
  };
  const remove = (t: TenantInfo) => {
    if (confirm(`Remove the connection to ${t.name}? Runs on it can no longer start.`)) void act(() => api.deleteTenant(t.name), `Removed ${t.name}`);
  };

  return (
    <div className="page" data-page="tenants">
      <PageHeader
        title="Tenants"
        subtitle="Microsoft 365 tenant connections: an app registration per tenant, and the permissions it has."
        actions={can.addTenants && !adding && (
          <button className="btn btn-primary" onClick={() => setAdding(true)}>
            Connect a tenant
          </button>
        )}
      />
      {adding && (
        <TenantForm
          onDone={(made) => {
            setAdding(false);
            if (made) {
              list.reload();
              void test(made.name);
            }
          }}
        />
      )}
      <ErrorBanner error={error ?? list.error} onRetry={list.reload} />
      {!list.data ? (
        <Spinner />
      ) : list.data.length === 0 ? (
        <Empty title="No tenant connections yet" />
      ) : (
        <div className="cards">
          {list.data.map((t) => {
            const r = tests[t.name];
            return (
              <section key={t.name} className="card tenant-card" data-tenant={t.name}>
                <header className="card-head">
                  <h2>
                    {t.displayName ?? t.name} <span className="muted small mono">{t.name}</span>
                  </h2>
                  {t.builtin && <span className="badge">built in</span>}
                </header>
                <dl className="facts">
                  <dt>Tenant id</dt>
                  <dd className="mono">{t.tenantId}</dd>
                  <dt>App (client) id</dt>
                  <dd className="mono">{t.clientId}</dd>
                  <dt>Credential</dt>
                  <dd>{t.credential}</dd>
                  {t.graphUrl && (
                    <>
                      <dt>Graph</dt>
                      <dd className="mono">{t.graphUrl}</dd>
                    </>
                  )}
                </dl>
                {can.adminOf(t.name) && (
                  <div className="row-actions">
                    <button className="btn btn-small" onClick={() => test(t.name)} disabled={r === 'testing'} data-action="test-connection">
                      {r === 'testing' ? 'Testing…' : 'Test connection'}
                    </button>
                    {!t.builtin && (
                      <button className="btn btn-small btn-danger" onClick={() => remove(t)}>
                        Remove
                      </button>
                    )}
                  </div>
                )}
                {r && r !== 'testing' && <TestResult result={r} />}
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}

function TestResult({ result }: { result: TenantTest | { error: unknown } }) {
  if ('error' in result && !('ok' in result)) return <ErrorBanner error={result.error} />;
  const r = result as TenantTest;
  if (!r.tokenAcquired) return <div className="banner banner-error test-result" data-ok="false">No token: {r.error ?? 'the tenant refused the credentials'}</div>;
  return (
    <div className={`banner ${r.missing.length ? 'banner-warn' : 'banner-ok'} test-result`} data-ok={String(r.ok)}>
      <div>
        <strong>{r.missing.length ? `Connected, but ${r.missing.length} of ${r.required.length} permissions are missing` : `Connected: all ${r.required.length} permissions granted`}</strong>
        {r.missing.length > 0 && (
          <>
            <p className="small">Grant these application permissions to the app registration (with admin consent); the actions that need them fail until then:</p>
            <ul className="missing-permissions">
              {r.missing.map((m) => (
                <li key={m} className="mono">
                  {m}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </div>
  );
}

function TenantForm({ onDone }: { onDone: (made?: TenantInfo) => void }) {
  const [t, setT] = useState<NewTenant & { useCertificate?: boolean }>({ name: '', tenantId: '', clientId: '' });
  const [error, setError] = useState<unknown>();
  const set = (k: keyof NewTenant) => (e: { target: { value: string } }) => setT((v) => ({ ...v, [k]: e.target.value || undefined }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const { useCertificate, ...body } = t;
    if (useCertificate) delete body.clientSecret;
    else delete body.certificate;
    try {
      onDone(await api.createTenant(body));
    } catch (err) {
      setError(err);
    }
  };
  const field = (k: keyof NewTenant, label: string, help?: string, props: Record<string, unknown> = {}) => (
    <label className="field" data-field={k}>
      <span className="field-label">{label}</span>
      <input name={k} value={(t[k] as string | undefined) ?? ''} onChange={set(k)} {...props} />
      {help && <span className="help">{help}</span>}
    </label>
  );
  return (
    <form className="card form-card" onSubmit={submit} aria-label="Connect a tenant">
      <h2>Connect a tenant</h2>
      <p className="muted small">Register an app in the tenant's Entra ID, grant it the application permissions the catalog needs (docs/permissions.md) with admin consent, and give its id and a secret or certificate here.</p>
      {field('name', 'Name', 'Lower-case letters, digits, - and _; how runs and grants name this tenant', { required: true, pattern: '[a-z0-9][a-z0-9_-]{0,62}' })}
      {field('displayName', 'Display name')}
      {field('tenantId', 'Tenant id', 'Entra tenant id (GUID) or a verified domain', { required: true })}
      {field('clientId', 'Application (client) id', undefined, { required: true })}
      <label className="check">
        <input type="checkbox" checked={!!t.useCertificate} onChange={(e) => setT((v) => ({ ...v, useCertificate: e.target.checked }))} /> Use a certificate instead of a client secret
      </label>
      {t.useCertificate ? (
        <label className="field" data-field="certificate">
          <span className="field-label">Certificate and private key (PEM)</span>
          <textarea rows={4} value={t.certificate ?? ''} onChange={set('certificate')} className="mono" />
        </label>
      ) : (
        field('clientSecret', 'Client secret', 'Stored sealed; never shown again', { type: 'password', autoComplete: 'new-password', required: true })
      )}
      <details className="advanced">
        <summary>Other clouds and emulators</summary>
        {field('authorityHost', 'Sign-in authority', "Microsoft's public cloud when empty")}
        {field('graphUrl', 'Graph root', 'https://graph.microsoft.com when empty')}
      </details>
      <ErrorBanner error={error} />
      <div className="row-actions">
        <button className="btn btn-primary" type="submit" data-action="create-tenant">
          Connect
        </button>
        <button className="btn" type="button" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}
