// The control plane's one schema, as numbered migrations. A migration, once shipped, never
// changes: add a new one. The same SQL runs on PGlite and PostgreSQL.
export interface Migration {
  version: number;
  name: string;
  sql: string;
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
];
