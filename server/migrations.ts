// The control plane's one schema, as numbered migrations. A migration, once shipped, never
// changes: add a new one. The same SQL runs on PGlite and PostgreSQL.
import { sealUnchainedEntries } from './audit-chain.ts';
import type { Queryable } from './sql.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Work SQL alone cannot do, in the same transaction, after the SQL. */
  after?: (q: Queryable) => Promise<void>;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'people, runbooks, tenants, audit',
    sql: `
create table users (
  id text primary key,
  email text not null unique,
  name text not null default '',
  password_hash text,
  must_change_password boolean not null default false,
  oidc_subject text unique,
  groups text[] not null default '{}',
  disabled boolean not null default false,
  created_at timestamptz not null default now()
);

create table role_grants (
  id serial primary key,
  user_id text not null references users(id) on delete cascade,
  tenant text not null,
  role text not null check (role in ('admin', 'designer', 'operator', 'approver', 'viewer')),
  scope jsonb,
  created_at timestamptz not null default now(),
  unique (user_id, tenant, role)
);

create table sessions (
  id_hash text primary key,
  user_id text not null references users(id) on delete cascade,
  csrf_token text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);

create table api_tokens (
  id text primary key,
  user_id text not null references users(id) on delete cascade,
  name text not null,
  token_hash text not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);

create table oidc_states (
  state text primary key,
  nonce text not null,
  code_verifier text not null,
  return_to text,
  created_at timestamptz not null default now()
);

create table runbooks (
  id text primary key,
  name text not null,
  description text,
  draft jsonb,
  draft_updated_at timestamptz,
  draft_updated_by text,
  custom_action boolean not null default false,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  created_by text not null
);

create table runbook_versions (
  runbook_id text not null references runbooks(id) on delete cascade,
  version integer not null,
  definition jsonb not null,
  comment text,
  published_at timestamptz not null default now(),
  published_by text not null,
  primary key (runbook_id, version)
);

create table tenants (
  name text primary key,
  display_name text,
  tenant_id text not null,
  client_id text not null,
  secret_enc text,
  certificate_enc text,
  authority_host text,
  graph_url text,
  ca_pem text,
  mail_from text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table schedules (
  id text primary key,
  runbook_id text not null,
  tenant text not null,
  created_by text not null,
  created_at timestamptz not null default now()
);

create table notifications_sent (
  run_id text not null,
  event text not null,
  sent_at timestamptz not null default now(),
  primary key (run_id, event)
);

create table audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  target text,
  tenant text,
  detail jsonb,
  ip text,
  user_agent text
);
create index audit_log_at on audit_log (at);

create function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the audit log is append-only';
end $$;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_is_append_only();
`,
  },
  {
    version: 2,
    name: 'tenant AD connections (hybrid)',
    sql: `
alter table tenants add column ad_json text;
alter table tenants add column ad_secret_enc text;
`,
  },
  {
    version: 3,
    name: 'run records, audit hash chain, settings',
    sql: `
-- One row per run (workflow id + run id): what it was asked, every step, every decision, every
-- change, kept after Temporal's retention has dropped the run (docs/runs.md).
create table run_records (
  workflow_id text not null,
  run_id text not null,
  parent_id text,
  runbook text,
  runbook_name text,
  version integer,
  definition_hash text,
  tenant text,
  requested_by text,
  reason text,
  test boolean not null default false,
  status text not null,
  temporal_status text,
  message text,
  pending_approvers text[] not null default '{}',
  progress text,
  started_at timestamptz not null,
  ended_at timestamptz,
  final boolean not null default false,
  record jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workflow_id, run_id)
);
create index run_records_started on run_records (started_at desc);
create index run_records_tenant on run_records (tenant, started_at desc);
create index run_records_status on run_records (status, started_at desc);
create index run_records_parent on run_records (parent_id);

-- A run step's changes are written to the audit log once: the claim and the entry commit together.
create table run_changes_audited (
  workflow_id text not null,
  run_id text not null,
  node_id text not null,
  audit_id bigint,
  primary key (workflow_id, run_id, node_id)
);

create table settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now(),
  updated_by text
);

-- The hash chain: each entry names the hash of the one before it (runbook/fingerprint.ts).
alter table audit_log add column prev_hash text;
alter table audit_log add column hash text;
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_is_append_only();
`,
    // Entries written before the chain existed join it, oldest first (the owner runs migrations).
    after: sealUnchainedEntries,
  },
  {
    version: 4,
    name: 'triggers (webhooks) and what they fired',
    sql: `
create table triggers (
  id text primary key,
  kind text not null,
  name text not null default '',
  runbook_id text not null,
  version integer not null,
  tenant text not null,
  filter text,
  inputs jsonb not null default '{}',
  config jsonb not null default '{}',
  secret_enc text,
  paused boolean not null default false,
  created_by text not null,
  created_at timestamptz not null default now()
);

-- One row per event a trigger accepted (a webhook's signature, later a Graph event id): the
-- primary key is the deduplication that survives restarts; run_id is the run it started.
create table trigger_firings (
  trigger_id text not null,
  event_key text not null,
  run_id text,
  outcome text not null,
  at timestamptz not null default now(),
  primary key (trigger_id, event_key)
);
create index trigger_firings_at on trigger_firings (trigger_id, at desc);
`,
  },
  {
    version: 5,
    name: 'bulk batches, their rows, idempotency keys',
    sql: `
-- A CSV bulk run is one batch (docs/runs.md "Bulk runs"): the file's rows are stored here before
-- anything starts, and one batch workflow works through them, writing each row's outcome back.
create table batches (
  id text primary key,
  tenant text not null,
  runbook text not null,
  version integer not null,
  test boolean not null default false,
  started_by text not null,
  -- Who started it as the row checks need it (grants, operator scope), at the time of the upload.
  principal jsonb not null,
  -- The definition as it runs (secret fields sealed), and the run context of every row's run.
  definition jsonb not null,
  run jsonb not null,
  concurrency integer not null,
  status text not null,
  rows_total integer not null,
  round integer not null default 1,
  workflow_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  ended_at timestamptz
);
create index batches_created on batches (created_at desc);

create table batch_rows (
  batch_id text not null references batches(id) on delete cascade,
  line integer not null,
  -- The row's inputs (secret inputs sealed).
  inputs jsonb not null,
  -- pending, running, succeeded, succeeded-with-warnings, failed, skipped
  status text not null,
  problems jsonb,
  error text,
  run_id text,
  attempt integer not null default 0,
  updated_at timestamptz not null default now(),
  primary key (batch_id, line)
);
create index batch_rows_status on batch_rows (batch_id, status, line);

-- Idempotency-Key: the first answer to a creating request, replayed for a repeat with the same body.
create table idempotency_keys (
  actor text not null,
  route text not null,
  key text not null,
  body_hash text not null,
  status integer,
  response jsonb,
  claimed_at timestamptz not null default now(),
  primary key (actor, route, key)
);
`,
  },
  {
    version: 6,
    name: 'Microsoft 365 event and date triggers: watch state, what each user looked like, date plans',
    sql: `
-- Graph and date triggers (docs/triggers.md): the subscription, its sealed clientState, the delta
-- link and the schedule, kept with the trigger so a restart carries on where it stopped.
alter table triggers add column state jsonb not null default '{}';

-- A graph trigger's last view of each user (the selected properties): "before" of the next change.
create table trigger_objects (
  trigger_id text not null,
  object_id text not null,
  props jsonb not null,
  primary key (trigger_id, object_id)
);

-- A date trigger's plan per user: the date read, the day the run is due (date + offset), and
-- planned / started / cancelled / past (the day was before the trigger could act) / filtered / refused.
create table trigger_date_plans (
  trigger_id text not null,
  user_id text not null,
  upn text,
  date text not null,
  due text not null,
  status text not null,
  run_id text,
  updated_at timestamptz not null default now(),
  primary key (trigger_id, user_id)
);
`,
    },
    {
    version: 7,
    name: 'runbooks owned by a tenant, shared with others',
    sql: `
-- The tenant whose designers edit the runbook; null: a global runbook (designers of every tenant).
alter table runbooks add column owner_tenant text;
-- Other tenants that may see and run it; '*' = every tenant.
alter table runbooks add column shared_with text[] not null default '{}';
-- Runbooks made before owners existed ran on every tenant: they stay runnable everywhere, and only
-- designers of every tenant may change them until an admin gives them an owner (docs/runbooks.md).
update runbooks set shared_with = '{*}';
`,
    },
    {
    version: 8,
    name: 'stored lists (long list inputs a forEach pages)',
    sql: `
-- A list input longer than STORED_LIST_MIN items (workflows/batch.ts) is stored here and the run
-- carries only a reference; its forEach reads one page per loop batch (docs/runs.md "Long lists").
create table stored_lists (
  id text primary key,
  tenant text not null,
  created_by text not null,
  total integer not null,
  created_at timestamptz not null default now()
);
create table stored_list_items (
  list_id text not null references stored_lists(id) on delete cascade,
  idx integer not null,
  item jsonb not null,
  primary key (list_id, idx)
);
`,
  },
  {
    version: 9,
    name: 'tell every server process which tables changed (kept reads)',
    sql: `
-- Each server process keeps who a token's or session's caller is, and the runbooks runs start
-- from, in memory (server/changes.ts). These triggers tell every process, after the transaction
-- commits, that a table those reads come from changed, whoever wrote it (another process, psql).
-- Writes that cannot make a kept read wrong do not notify: a new token or session (nothing kept
-- for it yet), a token's last use, a new runbook, a runbook's draft.
create function tenantflow_notify_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tenantflow_changes', tg_table_name);
  return null;
end $$;
create trigger users_changed after update or delete or truncate on users
  for each statement execute function tenantflow_notify_change();
create trigger role_grants_changed after insert or update or delete or truncate on role_grants
  for each statement execute function tenantflow_notify_change();
create trigger api_tokens_changed after update of user_id, token_hash, revoked_at, expires_at or delete or truncate on api_tokens
  for each statement execute function tenantflow_notify_change();
create trigger sessions_changed after update or delete or truncate on sessions
  for each statement execute function tenantflow_notify_change();
create trigger runbooks_changed after update of archived_at, custom_action, owner_tenant, shared_with or delete or truncate on runbooks
  for each statement execute function tenantflow_notify_change();
create trigger runbook_versions_changed after insert or update or delete or truncate on runbook_versions
  for each statement execute function tenantflow_notify_change();
`,
  },
  {
    version: 10,
    name: 'each audit entry has one successor at most',
    sql: `
-- Appends no longer take a lock (server/audit-chain.ts): this index is what keeps the chain one
-- line when several appends race, since two entries can no longer name the same predecessor.
-- A chain that was already forked (broken before this version) keeps its fork, shown by
-- GET /api/audit/verify: the index then covers the entries written from now on.
do $$
declare top bigint;
begin
  create unique index audit_log_one_successor on audit_log (prev_hash);
exception when unique_violation then
  select coalesce(max(id), 0) into top from audit_log;
  execute format('create unique index audit_log_one_successor on audit_log (prev_hash) where id > %s', top);
end $$;
`,
  },
  {
    version: 11,
    name: 'a run start is audited once, by the records writer',
    sql: `
-- POST /api/runs answers once Temporal has the run; its "run.started" entry is appended by the
-- writer of the run's first record (server/run-records.ts), which also catches up after a crash.
-- The claim and the entry commit together, so a run's start is in the log exactly once.
create table run_start_audited (
  workflow_id text primary key
);
`,
  },
];
