// The help desk: the published runbooks offered to operators (custom actions), each as its run form
// (pickers, CSV bulk, values prefilled from the URL: /helpdesk/<id>?user=anna@contoso.com). The
// server decides who may run what and on whom (operator scope); this page lists what it offers.
import { useState } from 'react';
import { api } from '../api.ts';
import { Link } from '../router.tsx';
import { Empty, ErrorBanner, PageHeader, Spinner, useAsync } from '../ui/kit.tsx';
import { BulkForm, RunForm } from './RunFormPage.tsx';

export function HelpDeskPage() {
  const list = useAsync(() => api.customActions(), []);
  return (
    <div className="page" data-page="helpdesk">
      <PageHeader title="Help desk" subtitle="Tasks you can run: pick one, fill in the form, or upload a CSV for many at once." />
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {list.loading && !list.data ? (
        <Spinner />
      ) : (list.data ?? []).length === 0 ? (
        <Empty title="Nothing offered yet">A designer offers a published runbook on the help desk from the runbook list.</Empty>
      ) : (
        <div className="template-grid" aria-label="Offered runbooks">
          {list.data!.map((a) => (
            <Link key={a.id} className="template" to={`/helpdesk/${encodeURIComponent(a.id)}`} data-offered-runbook={a.id}>
              <strong>{a.name}</strong>
              <span className="muted">{a.description ?? ''}</span>
            </Link>
          ))}
        </div>
      )}
    </div>
  );
}

export function HelpDeskRunPage({ id }: { id: string }) {
  const list = useAsync(() => api.customActions(), []);
  const [mode, setMode] = useState<'one' | 'bulk'>('one');
  if (list.error) return <div className="page"><ErrorBanner error={list.error} onRetry={list.reload} /></div>;
  if (!list.data) return <Spinner />;
  const action = list.data.find((a) => a.id === id);
  if (!action)
    return (
      <div className="page narrow">
        <h1>Not offered</h1>
        <p>
          <code>{id}</code> is not offered on the help desk. <Link to="/helpdesk">Back to the help desk</Link>
        </p>
      </div>
    );
  const def = { name: action.name, inputs: action.inputs };
  return (
    <div className="page narrow" data-page="helpdesk-run">
      <PageHeader title={action.name} subtitle={action.description} actions={<Link className="btn" to="/helpdesk">All tasks</Link>} />
      <div className="tabs" role="tablist">
        <button role="tab" aria-selected={mode === 'one'} className={mode === 'one' ? 'tab active' : 'tab'} onClick={() => setMode('one')}>
          One run
        </button>
        <button role="tab" aria-selected={mode === 'bulk'} className={mode === 'bulk' ? 'tab active' : 'tab'} onClick={() => setMode('bulk')}>
          Bulk from CSV
        </button>
      </div>
      {mode === 'one' ? <RunForm rb={{ id: action.id }} def={def} /> : <BulkForm rb={{ id: action.id }} def={def} />}
    </div>
  );
}
