// The designer: palette | canvas | inspector, with the problems list below. Drafts save as you
// work; publishing is blocked while the shared validator reports problems.
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { RunbookDefinition } from '../../../runbook/definition.ts';
import { validateRunbook } from '../../../runbook/validate.ts';
import { abilities } from '../access.ts';
import { api, type VersionInfo } from '../api.ts';
import { useSession } from '../context.tsx';
import { Canvas } from '../editor/Canvas.tsx';
import { EditorContext, useEditor, useEditorStore } from '../editor/context.ts';
import { diffDefinitions, type DefinitionDiff } from '../../../runbook/diff.ts';
import { diffLines } from '../editor/diff.ts';
import { NodeInspector } from '../editor/Inspector.tsx';
import { Palette, type PaletteItem } from '../editor/Palette.tsx';
import { ProblemsPanel } from '../editor/ProblemsPanel.tsx';
import { InputsEditor, SettingsEditor } from '../editor/RunbookPanel.tsx';
import { newNode } from '../editor/nodes/defaults.ts';
import { editorStoreFor, type EditorStore } from '../editor/store.ts';
import { loadRunbook, type EditableRunbook } from '../repo.ts';
import { Link, navigate } from '../router.tsx';
import { ErrorBanner, Spinner, useAsync } from '../ui/kit.tsx';

type Tab = 'step' | 'inputs' | 'settings' | 'versions';

export function EditorPage({ id }: { id: string }) {
  const rb = useAsync(() => loadRunbook(id), [id]);
  // The runbook and its store change together (a clone opens another runbook in this page).
  const [loaded, setLoaded] = useState<{ rb: EditableRunbook; store: EditorStore }>();
  useEffect(() => {
    if (rb.data && rb.data.id === id) setLoaded({ rb: rb.data, store: editorStoreFor(rb.data.definition) });
  }, [rb.data, id]);
  if (rb.error && !rb.data)
    return (
      <div className="page">
        <ErrorBanner error={rb.error} onRetry={rb.reload} />
        <Link to="/runbooks">Back to the runbooks</Link>
      </div>
    );
  if (!loaded || loaded.rb.id !== id) return <Spinner label="Opening the runbook" />;
  return (
    <EditorContext.Provider value={loaded.store}>
      <ReactFlowProvider key={loaded.rb.id}>
        <Editor rb={loaded.rb} store={loaded.store} />
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}

function Editor({ rb, store }: { rb: EditableRunbook; store: EditorStore }) {
  const flow = useReactFlow();
  const revision = useStore(store, (s) => s.revision);
  const problems = useStore(store, (s) => s.problems);
  const name = useStore(store, (s) => s.meta.name);
  const selected = useStore(store, (s) => s.nodes.filter((n) => n.selected).map((n) => n.id).join(','));
  const canUndo = useStore(store, (s) => s.past.length > 0);
  const canRedo = useStore(store, (s) => s.future.length > 0);
  const [tab, setTab] = useState<Tab>('step');
  const [save, setSave] = useState<{ state: 'saved' | 'saving' | 'error'; error?: unknown }>({ state: 'saved' });
  const [versions, setVersions] = useState<VersionInfo[]>(rb.versions);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [compare, setCompare] = useState<VersionInfo>();
  const [archived, setArchived] = useState(!!rb.archived);
  const can = abilities(useSession().grants);

  // Validation as you type, with the same validator the server runs.
  useEffect(() => {
    const t = setTimeout(() => {
      const r = validateRunbook(store.getState().definition());
      store.getState().setProblems(r.problems, r.warnings);
    }, revision === 0 ? 0 : 150);
    return () => clearTimeout(t);
  }, [revision, store]);

  // Drafts save themselves shortly after each change.
  useEffect(() => {
    if (revision === 0) return;
    setSave({ state: 'saving' });
    const t = setTimeout(() => {
      api.saveDraft(rb.id, store.getState().definition()).then(
        () => setSave({ state: 'saved' }),
        (err) => setSave({ state: 'error', error: err }),
      );
    }, 600);
    return () => clearTimeout(t);
  }, [revision, rb, store]);

  useEffect(() => {
    if (selected && !selected.includes(',')) setTab('step');
  }, [selected]);

  const addAt = (item: PaletteItem, at?: { x: number; y: number }) => {
    const s = store.getState();
    const before = s.selected();
    const newId = s.addNode(newNode(item.kind, item.action), at);
    // Added from the keyboard after a selected step: connect it, the way people build a chain.
    if (!at && before.length === 1) {
      const src = before[0]!;
      s.connect({ source: src.id, target: newId, sourceHandle: null, targetHandle: null });
    }
    setTab('step');
    if (!at) requestAnimationFrame(() => flow.fitView({ nodes: [{ id: newId }], maxZoom: 1, duration: 200 }));
  };

  const publish = async () => {
    setError(undefined);
    setNotice(undefined);
    const def = store.getState().definition();
    const result = validateRunbook(def);
    if (!result.ok) {
      store.getState().setProblems(result.problems, result.warnings);
      setError(new Error('Fix the problems before publishing'));
      return;
    }
    try {
      await api.saveDraft(rb.id, result.definition);
      const published = await api.publish(rb.id);
      setVersions((v) => [...v, published]);
      const warned = published.warnings?.length ?? 0;
      setNotice(`Published version ${published.version}${warned ? ` with ${warned} Microsoft 365 rule warning${warned > 1 ? 's' : ''} (see Problems)` : ''}`);
    } catch (err) {
      setError(err);
    }
  };

  const archive = async (to: boolean) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await api.setArchived(rb.id, to);
      setArchived(to);
    } catch (err) {
      setError(err);
    }
  };

  const clone = async () => {
    setError(undefined);
    try {
      const { id } = await api.cloneRunbook(rb.id);
      navigate(`/runbooks/${encodeURIComponent(id)}`);
    } catch (err) {
      setError(err);
    }
  };

  const exportJson = () => {
    const blob = new Blob([JSON.stringify(store.getState().definition(), null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${rb.id}.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  };

  const focusField = (nodeId: string | undefined, field: string) => {
    const top = field.split(/[.[]/)[0]!;
    if (!nodeId) setTab(top === 'inputs' ? 'inputs' : 'settings');
    else {
      setTab('step');
      requestAnimationFrame(() => flow.fitView({ nodes: [{ id: nodeId }], maxZoom: 1, duration: 200 }));
    }
    setTimeout(() => {
      const el = document.querySelector<HTMLElement>(`.side [data-field="${CSS.escape(field)}"] :is(input,select,textarea)`) ?? document.querySelector<HTMLElement>(`.side [data-field^="${CSS.escape(field.split('[')[0]!)}"] :is(input,select,textarea)`);
      el?.focus();
    }, 50);
  };

  const published = versions.length ? Math.max(...versions.map((v) => v.version)) : undefined;
  const selectedIds = selected ? selected.split(',') : [];

  return (
    <div className="editor">
      <header className="editor-bar">
        <Link to="/runbooks" className="btn btn-ghost btn-small" aria-label="Back to runbooks">
          ←
        </Link>
        <input className="title-input" value={name} onChange={(e) => store.getState().updateMeta((m) => ({ ...m, name: e.target.value }), 'name')} aria-label="Runbook name" />
        <span className={`save-state save-${save.state}`} role="status" aria-live="polite">
          {save.state === 'saving' ? 'Saving…' : save.state === 'saved' ? 'Draft saved' : `Not saved: ${(save.error as Error)?.message}`}
        </span>
        <div className="grow" />
        <div className="btn-group" role="group" aria-label="Edit">
          <button className="btn btn-small" onClick={() => store.getState().undo()} disabled={!canUndo} title="Undo (Ctrl+Z)">
            Undo
          </button>
          <button className="btn btn-small" onClick={() => store.getState().redo()} disabled={!canRedo} title="Redo (Ctrl+Shift+Z)">
            Redo
          </button>
          <button
            className="btn btn-small"
            onClick={() => {
              store.getState().autoLayout();
              requestAnimationFrame(() => flow.fitView({ duration: 200 }));
            }}
            title="Auto layout (Shift+L)"
          >
            Auto layout
          </button>
          <button className="btn btn-small" onClick={exportJson} title="Download the definition as JSON">
            Export
          </button>
          {can.clone && (
            <button className="btn btn-small" onClick={clone} title="Copy this runbook into a new one">
              Clone
            </button>
          )}
          {can.archive && (
            <button className="btn btn-small" onClick={() => archive(!archived)} title={archived ? 'Restore: edit, publish and run it again' : 'Archive: hide it from the list; runs keep their history'}>
              {archived ? 'Restore' : 'Archive'}
            </button>
          )}
        </div>
        <button className="btn btn-primary" onClick={publish} disabled={problems.length > 0 || archived} title={archived ? 'Restore the runbook to publish it' : problems.length ? `${problems.length} problems block publishing` : 'Publish a new version'} data-action="publish">
          Publish
        </button>
        <button className="btn" onClick={() => navigate(`/runbooks/${encodeURIComponent(rb.id)}/run`)} disabled={archived || !published} title={archived ? 'Restore the runbook to run it' : published ? `Run version ${published}` : 'Publish first'}>
          Run{published ? ` v${published}` : ''}
        </button>
      </header>
      {notice || error || archived ? (
        <div className="editor-notices">
          {archived && (
            <div className="banner" role="status">
              This runbook is archived: restore it to save changes, publish or run it.
            </div>
          )}
          {notice && (
            <div className="banner banner-ok" role="status">
              {notice}. <Link to={`/runbooks/${encodeURIComponent(rb.id)}/run`}>Run it</Link>
            </div>
          )}
          <ErrorBanner error={error} />
        </div>
      ) : null}
      <div className="editor-body">
        <Palette onAdd={(item) => addAt(item)} />
        <div className="editor-center">
          <Canvas onAddAt={(item, at) => addAt(item, at)} />
          <ProblemsPanel onPick={focusField} />
        </div>
        <aside className="side" aria-label="Inspector">
          <div className="tabs" role="tablist">
            {(['step', 'inputs', 'settings', 'versions'] as const).map((t) => (
              <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? 'tab active' : 'tab'} onClick={() => setTab(t)}>
                {{ step: 'Step', inputs: 'Inputs', settings: 'Runbook', versions: 'Versions' }[t]}
              </button>
            ))}
          </div>
          <div className="side-body" role="tabpanel">
            {tab === 'step' &&
              (selectedIds.length === 1 ? (
                <NodeInspector nodeId={selectedIds[0]!} />
              ) : (
                <div className="empty-inline">
                  {selectedIds.length > 1 ? (
                    <>
                      {selectedIds.length} steps selected. <kbd>Ctrl+C</kbd> copies, <kbd>Delete</kbd> removes them.
                    </>
                  ) : (
                    <>
                      <p>Select a step to edit it, or add one from the palette.</p>
                      <Shortcuts />
                    </>
                  )}
                </div>
              ))}
            {tab === 'inputs' && <InputsEditor />}
            {tab === 'settings' && <SettingsEditor />}
            {tab === 'versions' && <Versions versions={versions} onCompare={setCompare} />}
          </div>
        </aside>
      </div>
      {compare && <CompareDialog version={compare} rb={rb} draftSaved={save.state === 'saved'} onClose={() => setCompare(undefined)} />}
    </div>
  );
}

function Shortcuts() {
  const rows: [string, string][] = [
    ['Ctrl+Z / Ctrl+Shift+Z', 'undo / redo'],
    ['Ctrl+C / Ctrl+V / Ctrl+D', 'copy / paste / duplicate'],
    ['Ctrl+A', 'select all'],
    ['Shift+drag, Ctrl+click', 'select several'],
    ['Delete', 'remove the selection'],
    ['Shift+L', 'auto layout'],
    ['F', 'fit to screen'],
    ['Ctrl+Space', 'complete an expression'],
  ];
  return (
    <table className="shortcuts">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <td>
              <kbd>{k}</kbd>
            </td>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Versions({ versions, onCompare }: { versions: VersionInfo[]; onCompare: (v: VersionInfo) => void }) {
  const store = useEditorStore();
  if (!versions.length) return <p className="empty-inline">Not published yet. Publishing freezes a numbered version that runs pin.</p>;
  return (
    <ul className="versions">
      {[...versions]
        .sort((a, b) => b.version - a.version)
        .map((v) => (
          <li key={v.version}>
            <div>
              <strong>v{v.version}</strong> <span className="muted small">{v.publishedAt ? new Date(v.publishedAt).toLocaleString() : ''}</span>
              {v.publishedBy && <div className="muted small">by {v.publishedBy}</div>}
            </div>
            {v.definition && (
              <div className="row-actions">
                <button className="btn btn-small" onClick={() => onCompare(v)}>
                  Compare
                </button>
                <button
                  className="btn btn-small"
                  onClick={() => {
                    const def = v.definition!;
                    store.getState().updateMeta(() => ({ name: def.name, description: def.description, inputs: def.inputs, settings: def.settings }));
                    const fresh = editorStoreFor(def).getState();
                    store.setState({ nodes: fresh.nodes, edges: fresh.edges });
                  }}
                >
                  Restore
                </button>
              </div>
            )}
          </li>
        ))}
    </ul>
  );
}

function CompareDialog({ version, rb, draftSaved, onClose }: { version: VersionInfo; rb: EditableRunbook; draftSaved: boolean; onClose: () => void }) {
  const current = useEditor((s) => s.definition);
  const draft = useMemo(() => current(), [current]);
  const old = version.definition as RunbookDefinition;
  const inBrowser = useMemo(() => diffDefinitions(old, draft), [old, draft]);
  // The same diff, computed by the server from the saved draft; asked only when the draft is saved.
  // Anything else (a draft with problems) keeps the browser's.
  const [fromServer, setFromServer] = useState<DefinitionDiff>();
  useEffect(() => {
    if (!draftSaved) return;
    let live = true;
    api.diff(rb.id, version.version, 'draft').then(
      (d) => live && setFromServer(d),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [rb.id, version.version, draftSaved]);
  const diff = fromServer ?? inBrowser;
  const source = fromServer ? 'server' : 'browser';
  const changed = useMemo(() => diff.nodes.changed.map((c) => c.id), [diff]);
  const lines = useMemo(() => diffLines(diff), [diff]);
  const left = useMemo(() => editorStoreFor(old, { readOnly: true }), [old]);
  const right = useMemo(() => editorStoreFor(draft, { readOnly: true }), [draft]);
  useEffect(() => {
    left.setState((s) => ({ nodes: s.nodes.map((n) => ({ ...n, className: diff.nodes.removed.includes(n.id) ? 'diff-removed' : changed.includes(n.id) ? 'diff-changed' : undefined })) }));
    right.setState((s) => ({ nodes: s.nodes.map((n) => ({ ...n, className: diff.nodes.added.includes(n.id) ? 'diff-added' : changed.includes(n.id) ? 'diff-changed' : undefined })) }));
  }, [diff, changed, left, right]);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} className="compare" onClose={onClose} aria-label="Compare versions">
      <header className="compare-head">
        <h2>
          v{version.version} ↔ current draft
        </h2>
        <span className="muted small">
          {diff.nodes.added.length} added · {diff.nodes.removed.length} removed · {changed.length} changed · {diff.edges.added.length + diff.edges.removed.length} connections changed
          {diff.inputs.added.length + diff.inputs.removed.length + diff.inputs.changed.length ? ' · inputs changed' : ''}
          {diff.settings.length ? ' · settings changed' : ''}
        </span>
        <span className="tag" data-diff-source={source}>
          {source === 'server' ? 'compared by the server' : 'compared in this browser'}
        </span>
        <button className="btn btn-small" onClick={onClose} autoFocus>
          Close
        </button>
      </header>
      <div className="compare-body">
        {[left, right].map((s, i) => (
          <div key={i} className="compare-pane">
            <div className="compare-label">{i === 0 ? `Version ${version.version}` : 'Current draft'}</div>
            <EditorContext.Provider value={s}>
              <ReactFlowProvider>
                <Canvas readOnly />
              </ReactFlowProvider>
            </EditorContext.Provider>
          </div>
        ))}
        <aside className="compare-changes" aria-label="Changes">
          <div className="compare-label">Changes</div>
          {lines.length ? (
            <ul>
              {lines.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          ) : (
            <p className="empty-inline">No changes.</p>
          )}
        </aside>
      </div>
    </dialog>
  );
}
