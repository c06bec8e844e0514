import { useMemo, useRef, useState, type ChangeEvent } from 'react';
import { RunbookDefinition } from '../../../runbook/definition.ts';
import { abilities } from '../access.ts';
import { api, type RunbookSummary } from '../api.ts';
import { useSession } from '../context.tsx';
import { filterRunbooks, listRunbooks } from '../repo.ts';
import { Link, navigate } from '../router.tsx';
import { TEMPLATES } from '../templates.ts';
import { ago, Empty, ErrorBanner, PageHeader, Spinner, useAsync } from '../ui/kit.tsx';

export function RunbooksPage() {
  const can = abilities(useSession().grants);
  const [showArchived, setShowArchived] = useState(false);
  const list = useAsync(() => listRunbooks({ archived: showArchived }), [showArchived]);
  const gallery = useAsync(() => api.templates(), []);
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<unknown>();
  const fileInput = useRef<HTMLInputElement>(null);
  const canDesign = can.design;

  const rows = useMemo(() => filterRunbooks(list.data ?? [], search, showArchived), [list.data, search, showArchived]);

  const create = async (definition: RunbookDefinition) => {
    setError(undefined);
    try {
      const { id } = await api.createRunbook(definition);
      navigate(`/runbooks/${encodeURIComponent(id)}`);
    } catch (err) {
      setError(err);
    }
  };

  const fromGallery = async (templateId: string) => {
    setError(undefined);
    try {
      const { id } = await api.createFromTemplate(templateId);
      navigate(`/runbooks/${encodeURIComponent(id)}`);
    } catch (err) {
      setError(err);
    }
  };

  const fromServer = async (id: string) => {
    const rb = await api.runbook(id);
    // The latest version, else the draft (which may still have problems: the editor shows them).
    const definition = (rb.definition ?? rb.draft) as RunbookDefinition;
    await create({ ...definition, name: `${definition.name} (copy)` });
  };

  const clone = async (r: RunbookSummary) => {
    setError(undefined);
    try {
      const { id } = await api.cloneRunbook(r.id);
      navigate(`/runbooks/${encodeURIComponent(id)}`);
    } catch (err) {
      setError(err);
    }
  };

  const setArchived = async (r: RunbookSummary, archived: boolean) => {
    setError(undefined);
    try {
      await api.setArchived(r.id, archived);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  const setOffered = async (r: RunbookSummary, offered: boolean) => {
    setError(undefined);
    try {
      await api.setOffered(r.id, offered);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  const importFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    try {
      const parsed = RunbookDefinition.safeParse(JSON.parse(await file.text()));
      if (!parsed.success) throw new Error(`${file.name} is not a runbook definition: ${parsed.error.issues[0]?.message ?? ''}`);
      await create(parsed.data);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div className="page">
      <PageHeader
        title="Runbooks"
        subtitle="Design, publish and run automations for your Microsoft 365 tenants."
        actions={
          <>
            <input ref={fileInput} type="file" accept="application/json,.json" hidden onChange={importFile} aria-label="Import runbook JSON" />
            <button className="btn" onClick={() => fileInput.current?.click()}>
              Import JSON
            </button>
            <button className="btn btn-primary" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
              New runbook
            </button>
          </>
        }
      />
      <ErrorBanner error={error} />
      {creating && (
        <section className="card templates" aria-label="Start from a template">
          <h2>Start from</h2>
          <div className="template-grid">
            {TEMPLATES.map((t) => (
              <button key={t.id} className="template" onClick={() => create(t.definition)} data-template={t.id}>
                <strong>{t.title}</strong>
                <span className="muted">{t.description}</span>
              </button>
            ))}
            {(gallery.data ?? []).map((t) => (
              <button key={`gallery-${t.id}`} className="template" onClick={() => fromGallery(t.id)} data-template={t.id} data-gallery>
                <strong>{t.name}</strong>
                <span className="muted">{t.description}</span>
                {t.children.length > 0 && <span className="muted">Uses the sub-runbooks {t.children.join(', ')} (created and published with it when missing)</span>}
              </button>
            ))}
            {(list.data ?? []).map((r) => (
              <button key={r.id} className="template" onClick={() => fromServer(r.id).catch(setError)}>
                <strong>Copy of {r.name}</strong>
                <span className="muted">{r.description ?? 'A stored runbook'}</span>
              </button>
            ))}
          </div>
        </section>
      )}
      <div className="toolbar">
        <input type="search" placeholder="Search runbooks" value={search} onChange={(e) => setSearch(e.target.value)} aria-label="Search runbooks" className="search" />
        <label className="check">
          <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} aria-label="Show archived" /> Show archived
        </label>
      </div>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {list.loading && !list.data ? (
        <Spinner />
      ) : rows.length === 0 ? (
        <Empty
          title={search ? 'No runbook matches' : 'No runbooks yet'}
          action={
            !search && (
              <button className="btn btn-primary" onClick={() => setCreating(true)}>
                Create your first runbook
              </button>
            )
          }
        >
          {search ? 'Try another word.' : 'A runbook chains Microsoft 365 actions, approvals and conditions into one repeatable procedure.'}
        </Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Version</th>
              <th>Updated</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-runbook={r.id} className={r.archived ? 'archived' : undefined}>
                <td>
                  <Link to={`/runbooks/${encodeURIComponent(r.id)}`} className="strong">
                    {r.name}
                  </Link>
                  {r.archived && <span className="tag">archived</span>}
                  {r.customAction && !r.archived && <span className="tag" data-offered={r.id}>on the help desk</span>}
                  {r.description && <div className="muted small">{r.description}</div>}
                </td>
                <td>{r.latestVersion ? `v${r.latestVersion}` : <span className="muted">draft</span>}</td>
                <td className="muted">{ago(r.draftUpdatedAt)}</td>
                <td className="row-actions">
                  <Link className="btn btn-small" to={`/runbooks/${encodeURIComponent(r.id)}`}>
                    Edit
                  </Link>
                  {!r.archived && (
                    <Link className="btn btn-small" to={`/runbooks/${encodeURIComponent(r.id)}/run`}>
                      Run
                    </Link>
                  )}
                  {canDesign && !r.archived && r.latestVersion !== undefined && (
                    <button
                      className="btn btn-small"
                      data-action={r.customAction ? 'withdraw' : 'offer'}
                      onClick={() => setOffered(r, !r.customAction)}
                      title={r.customAction ? 'Take it off the help desk: operators can no longer run it' : 'Offer it on the help desk: operators may run its published version within their scope'}
                    >
                      {r.customAction ? 'Withdraw' : 'Offer'}
                    </button>
                  )}
                  {can.clone && (
                    <button className="btn btn-small" onClick={() => clone(r)} title="Copy into a new runbook">
                      Clone
                    </button>
                  )}
                  {can.archive && (
                    <button className="btn btn-small" onClick={() => setArchived(r, !r.archived)} title={r.archived ? 'Bring it back to the list' : 'Hide it from the list; runs keep their history'}>
                      {r.archived ? 'Restore' : 'Archive'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
