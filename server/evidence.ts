// The evidence pack of a run: everything an auditor asks a month later, in one self-contained
// HTML page that prints well and the same data as JSON. Who asked and why, the runbook version
// and its hash, inputs, the plan, approvals, each change with before and after, warnings and
// errors, timings, the Temporal ids, and the audit-chain hashes that cover the run.
import { STATUS_WORDS, type RunStatus } from '../runbook/definition.ts';
import { canonicalJson, sha256Hex, type ChainCheck } from '../runbook/fingerprint.ts';
import { catalog } from '../catalog/index.ts';
import { changesTenant, type RecordedChange, type RunRecord } from './run-records.ts';

export interface EvidenceAuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target?: string;
  detail?: unknown;
  prevHash?: string;
  hash?: string;
}

export interface EvidencePack {
  kind: 'tenantflow.evidence';
  formatVersion: 1;
  generatedAt: string;
  generatedBy: string;
  run: {
    id: string;
    status: RunStatus;
    statusText: string;
    message?: string;
    tenant?: string;
    test: boolean;
    startedAt: string;
    endedAt?: string;
    durationMs?: number;
    finished: boolean;
  };
  request: { requestedBy?: string; reason?: string; origin?: Record<string, unknown> };
  runbook: { id?: string; name?: string; version?: number; definitionHash?: string };
  temporal: { namespace: string; workflowId: string; runId: string; url?: string };
  inputs?: unknown;
  plan: unknown;
  approvals: { step: string; decision: string; by: string; at: string; comment?: string; refused?: string }[];
  steps: {
    id: string;
    kind: string;
    action?: string;
    title?: string;
    status: string;
    attempts: number;
    startedAt?: string;
    endedAt?: string;
    durationMs?: number;
    handle?: string;
    warnings: string[];
    error?: { message: string; code?: string; hint?: string; type?: string };
  }[];
  /** Property changes the steps recorded (before -> after). */
  changes: (RecordedChange & { step: string; action?: string; run?: string })[];
  /** Steps that changed the tenant without recording before/after: what was asked and what came back. */
  writes: { step: string; action?: string; title?: string; input: unknown; output: unknown; run?: string }[];
  warnings: string[];
  errors: { step: string; message: string; code?: string; hint?: string }[];
  /** Item runs of the run's loops. */
  items: { id: string; status: RunStatus; message?: string }[];
  audit: {
    entries: EvidenceAuditEntry[];
    /** The newest entry of the whole log when the pack was made: the chain up to it covers every entry above. */
    head?: { id: number; hash: string };
    chain: ChainCheck;
  };
  record: { recordedAt: string; final: boolean; source: string };
  /** sha256 of the canonical JSON of everything above: quote it to refer to this exact pack. */
  digest: string;
}

const ms = (a?: string, b?: string) => (a && b ? Math.max(0, Date.parse(b) - Date.parse(a)) : undefined);

export function buildEvidence(opts: {
  record: RunRecord & { source?: string };
  items: RunRecord[];
  audit: EvidenceAuditEntry[];
  head?: { id: number; hash: string };
  chain: ChainCheck;
  by: string;
  temporalUrl?: string;
}): EvidencePack {
  const { record: r } = opts;
  const all = [r, ...opts.items];
  const steps = Object.values(r.nodes).sort((a, b) => (a.startedAt ?? '~').localeCompare(b.startedAt ?? '~'));
  const pack: Omit<EvidencePack, 'digest'> = {
    kind: 'tenantflow.evidence',
    formatVersion: 1,
    generatedAt: new Date().toISOString(),
    generatedBy: opts.by,
    run: {
      id: r.id,
      status: r.status,
      statusText: STATUS_WORDS[r.status] ?? r.status,
      message: r.message,
      tenant: r.tenant,
      test: r.test,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      durationMs: ms(r.startedAt, r.endedAt),
      finished: r.final,
    },
    request: { requestedBy: r.startedBy, reason: r.reason, origin: r.origin },
    runbook: { id: r.runbook, name: r.runbookName, version: r.version, definitionHash: r.definitionHash },
    temporal: { ...r.temporal, url: opts.temporalUrl },
    inputs: r.inputs,
    plan: r.plan ?? null,
    approvals: r.decisions.map((d) => ({ step: d.node, decision: d.decision, by: d.by, at: d.at, comment: d.comment, refused: d.refused })),
    steps: steps.map((n) => ({
      id: n.id,
      kind: n.kind,
      action: n.action,
      title: n.title,
      status: n.status,
      attempts: n.attempts,
      startedAt: n.startedAt,
      endedAt: n.endedAt,
      durationMs: ms(n.startedAt, n.endedAt),
      handle: n.handle,
      warnings: n.warnings ?? [],
      error: n.error,
    })),
    changes: all.flatMap((run) =>
      Object.values(run.nodes).flatMap((n) => (n.changes ?? []).map((c) => ({ step: n.id, action: n.action, ...(run.id !== r.id ? { run: run.id } : {}), ...c }))),
    ),
    writes: all.flatMap((run) =>
      Object.values(run.nodes)
        .filter((n) => n.kind === 'action' && n.status === 'succeeded' && !n.changes && changesTenant(catalog.get(n.action ?? '')))
        .map((n) => ({ step: n.id, action: n.action, title: n.title, input: n.input, output: n.output, ...(run.id !== r.id ? { run: run.id } : {}) })),
    ),
    warnings: r.warnings,
    errors: steps.filter((n) => n.error).map((n) => ({ step: n.id, message: n.error!.message, code: n.error!.code, hint: n.error!.hint })),
    items: opts.items.map((i) => ({ id: i.id, status: i.status, message: i.message })),
    audit: { entries: opts.audit, head: opts.head, chain: opts.chain },
    record: { recordedAt: r.recordedAt, final: r.final, source: r.source ?? 'record' },
  };
  return { ...pack, digest: `sha256:${sha256Hex(canonicalJson(pack))}` };
}

// ---- HTML ----

const esc = (v: unknown) =>
  String(v ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
const value = (v: unknown) => (v === undefined ? '<span class="none">—</span>' : typeof v === 'string' ? esc(v) : `<code>${esc(JSON.stringify(v))}</code>`);
const when = (iso?: string) => (iso ? `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC'))}</time>` : '—');
const dur = (n?: number) => (n === undefined ? '—' : n < 1000 ? `${n} ms` : n < 120_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n / 60_000)} min`);
const json = (v: unknown) => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
const table = (cols: string[], rows: string[][], id: string) =>
  rows.length
    ? `<table id="${id}"><thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`
    : `<p class="none" id="${id}">None.</p>`;

const TONE: Record<string, string> = {
  succeeded: 'ok',
  'succeeded-with-warnings': 'warn',
  'partially-failed': 'bad',
  failed: 'bad',
  'timed-out': 'bad',
  rejected: 'neutral',
  cancelled: 'neutral',
};

export function evidenceHtml(e: EvidencePack): string {
  const title = `Evidence: ${e.runbook.name ?? e.runbook.id ?? 'run'} — ${e.run.id}`;
  const sections = [
    `<section id="summary"><h2>Outcome</h2>
      <p class="status tone-${TONE[e.run.status] ?? 'neutral'}" data-status="${esc(e.run.status)}"><strong>${esc(e.run.statusText)}</strong>${e.run.message ? ` — ${esc(e.run.message)}` : ''}</p>
      <dl>
        <dt>Requested by</dt><dd id="requested-by">${value(e.request.requestedBy)}</dd>
        <dt>Why</dt><dd id="reason">${e.request.reason ? esc(e.request.reason) : '<span class="none">no reason was given</span>'}</dd>
        <dt>Tenant</dt><dd>${value(e.run.tenant)}${e.run.test ? ' (test run on the sandbox)' : ''}</dd>
        <dt>Runbook</dt><dd id="runbook">${esc(e.runbook.name ?? e.runbook.id ?? '—')} (<code>${esc(e.runbook.id ?? '')}</code>) version ${esc(e.runbook.version ?? '—')}</dd>
        <dt>Definition hash</dt><dd><code id="definition-hash">${esc(e.runbook.definitionHash ?? '—')}</code></dd>
        <dt>Started</dt><dd>${when(e.run.startedAt)}</dd>
        <dt>Ended</dt><dd>${when(e.run.endedAt)}${e.run.finished ? '' : ' (the run had not finished when this pack was made)'}</dd>
        <dt>Took</dt><dd>${dur(e.run.durationMs)}</dd>
        <dt>Temporal</dt><dd>namespace <code>${esc(e.temporal.namespace)}</code>, workflow id <code id="workflow-id">${esc(e.temporal.workflowId)}</code>, run id <code id="temporal-run-id">${esc(e.temporal.runId)}</code>${e.temporal.url ? ` (<a href="${esc(e.temporal.url)}">history</a>)` : ''}</dd>
        ${e.request.origin ? `<dt>Origin</dt><dd>${value(e.request.origin)}</dd>` : ''}
      </dl></section>`,
    `<section id="inputs"><h2>Inputs</h2>${e.inputs === undefined ? '<p class="none">Not recorded.</p>' : json(e.inputs)}</section>`,
    `<section id="plan"><h2>Plan</h2>${e.plan === null ? '<p class="none">No plan was made for this run.</p>' : json(e.plan)}</section>`,
    `<section id="approvals"><h2>Approvals</h2>${table(
      ['Step', 'Decision', 'By', 'When', 'Comment'],
      e.approvals.map((a) => [esc(a.step), esc(a.decision === 'approve' ? 'approved' : 'rejected') + (a.refused ? ` <em>(refused: ${esc(a.refused)})</em>` : ''), esc(a.by), when(a.at), a.comment ? esc(a.comment) : '']),
      'approvals-table',
    )}</section>`,
    `<section id="changes"><h2>Changes in Microsoft 365</h2>${table(
      ['Step', 'Object', 'Property', 'Before', 'After'],
      e.changes.map((c) => [`${esc(c.step)}${c.run ? `<br><small>${esc(c.run)}</small>` : ''}`, esc(c.object), esc(c.property), value(c.before), value(c.after)]),
      'changes-table',
    )}${
      e.writes.length
        ? `<h3>Steps that wrote to the tenant without recording before / after</h3>${table(
            ['Step', 'Action', 'Asked', 'Answer'],
            e.writes.map((w) => [`${esc(w.step)}${w.run ? `<br><small>${esc(w.run)}</small>` : ''}`, `${esc(w.title ?? '')} <code>${esc(w.action ?? '')}</code>`, json(w.input), json(w.output)]),
            'writes-table',
          )}`
        : ''
    }</section>`,
    `<section id="steps"><h2>Steps and timings</h2>${table(
      ['Step', 'Action', 'Status', 'Attempts', 'Started', 'Took', 'Warnings / error'],
      e.steps.map((s) => [
        esc(s.id),
        s.action ? `${esc(s.title ?? '')} <code>${esc(s.action)}</code>` : esc(s.kind),
        esc(s.status) + (s.handle && s.handle !== 'out' ? ` → ${esc(s.handle)}` : ''),
        esc(s.attempts),
        when(s.startedAt),
        dur(s.durationMs),
        [...s.warnings.map((w) => `<div class="warn">⚠ ${esc(w)}</div>`), s.error ? `<div class="bad">${esc(s.error.message)}${s.error.code ? ` <code>${esc(s.error.code)}</code>` : ''}</div>` : ''].join(''),
      ]),
      'steps-table',
    )}</section>`,
    `<section id="warnings"><h2>Warnings and errors</h2>${
      e.warnings.length || e.errors.length
        ? `<ul>${[...e.warnings.map((w) => `<li class="warn">${esc(w)}</li>`), ...e.errors.map((x) => `<li class="bad">${esc(x.step)}: ${esc(x.message)}${x.hint ? ` — ${esc(x.hint)}` : ''}</li>`)].join('')}</ul>`
        : '<p class="none">None.</p>'
    }</section>`,
    e.items.length ? `<section id="items"><h2>Loop items</h2>${table(['Item run', 'Status', 'Message'], e.items.map((i) => [`<code>${esc(i.id)}</code>`, esc(STATUS_WORDS[i.status] ?? i.status), esc(i.message ?? '')]), 'items-table')}</section>` : '',
    `<section id="audit"><h2>Audit log entries and their hash chain</h2>
      <p>Each entry's hash covers the entry and the hash of the entry before it; recompute with <code>tenantflow audit verify</code>.
      Chain check when this pack was made: <strong id="chain-check">${e.audit.chain.ok ? `intact (${e.audit.chain.entries} entries)` : `BROKEN at entry ${e.audit.chain.brokenAt}: ${esc(e.audit.chain.reason)}`}</strong>${
        e.audit.head ? `; head: entry ${e.audit.head.id}, <code id="chain-head">${esc(e.audit.head.hash)}</code>` : ''
      }.</p>
      ${table(
        ['Entry', 'When', 'Who', 'What', 'Previous hash', 'Hash'],
        e.audit.entries.map((a) => [esc(a.id), when(a.at), esc(a.actor), esc(a.action), `<code class="hash">${esc(a.prevHash ?? '')}</code>`, `<code class="hash">${esc(a.hash ?? '')}</code>`]),
        'audit-table',
      )}</section>`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  :root { color-scheme: light; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 1100px; padding: 0 1.5rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; } h3 { font-size: 1rem; }
  .sub { color: #57606a; margin: 0 0 1rem; }
  dl { display: grid; grid-template-columns: 11rem 1fr; gap: .25rem 1rem; margin: 0; } dt { color: #57606a; } dd { margin: 0; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { border: 1px solid #d0d7de; padding: .3rem .45rem; text-align: left; vertical-align: top; } th { background: #f6f8fa; }
  code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; } pre { background: #f6f8fa; padding: .5rem; white-space: pre-wrap; word-break: break-word; margin: 0; }
  code.hash { word-break: break-all; font-size: 11px; }
  .status { padding: .6rem .8rem; border-radius: 6px; border: 1px solid; }
  .tone-ok { background: #dafbe1; border-color: #4ac26b; } .tone-warn { background: #fff8c5; border-color: #d4a72c; } .tone-bad { background: #ffebe9; border-color: #ff8182; } .tone-neutral { background: #f6f8fa; border-color: #afb8c1; }
  .warn { color: #7d4e00; } .bad { color: #a40e26; } .none { color: #6e7781; font-style: italic; }
  footer { margin-top: 2rem; color: #57606a; font-size: 12px; border-top: 1px solid #d0d7de; padding-top: .5rem; }
  @media print {
    body { margin: 0; max-width: none; font-size: 11px; } a { color: inherit; text-decoration: none; }
    section { break-inside: auto; } tr, dl, .status { break-inside: avoid; } thead { display: table-header-group; } h2 { break-after: avoid; }
    .tone-ok, .tone-warn, .tone-bad, .tone-neutral, th, pre { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  }
</style></head>
<body data-run="${esc(e.run.id)}">
<header><h1>${esc(title)}</h1>
<p class="sub">Tenantflow evidence pack, made ${when(e.generatedAt)} by ${esc(e.generatedBy)}. The same data as JSON: add <code>?format=json</code>.</p></header>
${sections.join('\n')}
<footer>Pack digest <code id="digest">${esc(e.digest)}</code> (sha256 of the canonical JSON of the pack's contents). Record written ${when(e.record.recordedAt)} from ${esc(e.record.source === 'temporal' ? 'Temporal' : 'the run record')}.</footer>
</body></html>
`;
}
