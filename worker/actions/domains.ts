// Handlers of the domain actions (catalog/actions/domains.ts). Adding, verifying and updating are
// idempotent by reading the domain first; a forced removal is Microsoft's asynchronous
// forceDelete, polled until the domain answers 404 (or reported pending at the deadline).
import type { Client } from '@microsoft/microsoft-graph-client';
import * as c from '../../catalog/actions/domains.ts';
import { implement } from '../activity.ts';
import type { InputOf, PlanContext } from '../implementation.ts';
import type { Change } from '../../catalog/contract.ts';
import { change } from './changes.ts';
import { ActionError, statusOf } from '../../m365/errors.ts';
import { orNotFound } from './shared.ts';
import { pollUntil } from './waiting.ts';

interface Domain {
  id: string;
  isVerified: boolean;
  isDefault: boolean;
  isInitial?: boolean;
  supportedServices: string[];
  state?: { operation?: string; status?: string } | null;
}

interface DnsRecord {
  recordType: string;
  label: string;
  ttl: number;
  text?: string;
  mailExchange?: string;
  preference?: number;
}

const view = (d: Domain) => ({ id: d.id, isVerified: d.isVerified, isDefault: d.isDefault, supportedServices: d.supportedServices ?? [] });

const getDomain = (graph: Client, name: string) => orNotFound(graph.api(`/domains/${encodeURIComponent(name.toLowerCase())}`).get() as Promise<Domain>);

async function requireDomain(graph: Client, name: string): Promise<Domain> {
  const d = await getDomain(graph, name);
  if (!d) throw new ActionError(`the tenant has no domain ${name}`, { code: 'ResourceNotFound', hint: 'add it first ("Add domain"), or check the spelling', status: 404 });
  return d;
}

async function records(graph: Client, name: string) {
  const res = (await graph.api(`/domains/${encodeURIComponent(name.toLowerCase())}/verificationDnsRecords`).get()) as { value: DnsRecord[] };
  return res.value
    .filter((r) => r.recordType === 'Txt' || r.recordType === 'Mx')
    .map((r) => ({ type: r.recordType === 'Txt' ? ('TXT' as const) : ('MX' as const), name: r.label, value: (r.recordType === 'Txt' ? r.text : r.mailExchange) ?? '', ttl: r.ttl, priority: r.recordType === 'Mx' ? (r.preference ?? null) : null }));
}

export const domainList = implement(c.domainList, async (input, { graph }) => {
  const res = (await graph.api('/domains').get()) as { value: Domain[] };
  const domains = res.value.filter((d) => !input.verifiedOnly || d.isVerified).map(view);
  return { domains, count: domains.length };
});

export const domainAdd = implement(c.domainAdd, async (input, { graph }) => {
  let d = await getDomain(graph, input.domain);
  const created = !d;
  if (!d) {
    try {
      d = (await graph.api('/domains').post({ id: input.domain.toLowerCase() })) as Domain;
    } catch (err) {
      if (statusOf(err) === 400 && /onmicrosoft/i.test((err as Error).message)) throw new ActionError(`${input.domain} cannot be added: onmicrosoft.com domains are Microsoft's`, { code: 'InvalidInput', status: 400 });
      throw err;
    }
  }
  return { ...view(d), created, verificationRecords: d.isVerified ? [] : await records(graph, d.id) };
}, planDomainAdd);

async function planDomainAdd(input: InputOf<typeof c.domainAdd>, { graph }: PlanContext): Promise<Change[]> {
  const name = input.domain.toLowerCase();
  if (await getDomain(graph, name)) return [];
  if (/\.onmicrosoft\.com$/i.test(name)) throw new ActionError(`${input.domain} cannot be added: onmicrosoft.com domains are Microsoft's`, { code: 'InvalidInput', status: 400 });
  return [change(`domain ${name}`, 'exists', false, true, { objectId: name, note: 'unverified until its DNS record is in place' })];
}

export const domainVerificationRecords = implement(c.domainVerificationRecords, async (input, { graph }) => {
  const d = await requireDomain(graph, input.domain);
  return { domain: d.id, isVerified: d.isVerified, verificationRecords: await records(graph, d.id) };
});

export const domainVerify = implement(c.domainVerify, async (input, ctx) => {
  const d = await requireDomain(ctx.graph, input.domain);
  if (d.isVerified) return { ...view(d), verified: false };
  let lastRefusal = '';
  const attempt = async (): Promise<Domain | undefined> => {
    try {
      return (await ctx.graph.api(`/domains/${encodeURIComponent(d.id)}/verify`).post({})) as Domain;
    } catch (err) {
      // 400: the record is not (yet) visible in DNS.
      if (statusOf(err) !== 400) throw err;
      lastRefusal = (err as Error).message;
      return undefined;
    }
  };
  const done = input.waitMinutes > 0 ? await pollUntil(ctx, attempt, { maxWaitMs: input.waitMinutes * 60_000, firstMs: 15_000, maxMs: 60_000 }) : await attempt();
  if (!done) {
    const txt = (await records(ctx.graph, d.id)).find((r) => r.type === 'TXT');
    throw new ActionError(`${d.id} could not be verified: ${lastRefusal}`, {
      code: 'DomainVerificationFailed',
      hint: txt ? `add a TXT record for ${txt.name} with the text ${txt.value} (TTL ${txt.ttl}) at the domain's DNS host, wait for it to propagate, then retry` : 'add the verification record at the domain\'s DNS host, then retry',
      status: 400,
    });
  }
  return { ...view(done), verified: true };
}, planDomainVerify);

async function planDomainVerify(input: InputOf<typeof c.domainVerify>, { graph }: PlanContext) {
  const d = await requireDomain(graph, input.domain);
  if (d.isVerified) return [];
  return { changes: [change(`domain ${d.id}`, 'isVerified', false, true, { objectId: d.id })], notes: [`verification succeeds only once the TXT (or MX) record is visible in DNS${input.waitMinutes ? `; the step keeps checking for ${input.waitMinutes} minutes` : ''}`] };
}

export const domainUpdate = implement(c.domainUpdate, async (input, { graph }) => {
  const d = await requireDomain(graph, input.domain);
  const patch: Record<string, unknown> = {};
  let previousDefault: string | null = null;
  if (input.makeDefault && !d.isDefault) {
    if (!d.isVerified) throw new ActionError(`${d.id} is not verified, so it cannot be the default domain`, { code: 'DomainNotVerified', hint: 'verify it first ("Verify domain")' });
    previousDefault = ((await graph.api('/domains').get()) as { value: Domain[] }).value.find((x) => x.isDefault)?.id ?? null;
    patch['isDefault'] = true;
  }
  if (input.supportedServices && JSON.stringify([...input.supportedServices].sort()) !== JSON.stringify([...(d.supportedServices ?? [])].sort())) {
    if (!d.isVerified) throw new ActionError(`${d.id} is not verified, so services cannot use it yet`, { code: 'DomainNotVerified', hint: 'verify it first ("Verify domain")' });
    patch['supportedServices'] = input.supportedServices;
  }
  if (Object.keys(patch).length) await graph.api(`/domains/${encodeURIComponent(d.id)}`).patch(patch);
  const after = Object.keys(patch).length ? await requireDomain(graph, d.id) : d;
  return { ...view(after), changed: Object.keys(patch).map((k) => (k === 'isDefault' ? 'default' : k)), previousDefault };
}, planDomainUpdate);

async function planDomainUpdate(input: InputOf<typeof c.domainUpdate>, { graph }: PlanContext): Promise<Change[]> {
  const d = await requireDomain(graph, input.domain);
  const out: Change[] = [];
  if (input.makeDefault && !d.isDefault) {
    if (!d.isVerified) throw new ActionError(`${d.id} is not verified, so it cannot be the default domain`, { code: 'DomainNotVerified', hint: 'verify it first ("Verify domain")' });
    const previous = ((await graph.api('/domains').get()) as { value: Domain[] }).value.find((x) => x.isDefault)?.id;
    if (previous) out.push(change(`domain ${previous}`, 'isDefault', true, false, { objectId: previous }));
    out.push(change(`domain ${d.id}`, 'isDefault', false, true, { objectId: d.id }));
  }
  const current = [...(d.supportedServices ?? [])].sort();
  if (input.supportedServices && JSON.stringify([...input.supportedServices].sort()) !== JSON.stringify(current)) {
    if (!d.isVerified) throw new ActionError(`${d.id} is not verified, so services cannot use it yet`, { code: 'DomainNotVerified', hint: 'verify it first ("Verify domain")' });
    out.push(change(`domain ${d.id}`, 'supportedServices', current, [...input.supportedServices].sort(), { objectId: d.id }));
  }
  return out;
}

export const domainRemove = implement(c.domainRemove, async (input, ctx) => {
  const name = input.domain.toLowerCase();
  const d = await getDomain(ctx.graph, name);
  if (!d) {
    if (ctx.attempt > 1) return { domain: name, removed: false, pending: false };
    throw new ActionError(`the tenant has no domain ${name}`, { code: 'ResourceNotFound', status: 404 });
  }
  if (d.isDefault || d.isInitial)
    throw new ActionError(`${name} is the ${d.isInitial ? 'initial' : 'default'} domain and cannot be removed`, {
      code: 'DomainProtected',
      hint: d.isInitial ? 'the onmicrosoft.com domain stays with the tenant' : 'make another verified domain the default first ("Update domain")',
    });
  const forcing = d.state?.operation === 'ForceDelete';
  if (!input.force && !forcing) {
    try {
      await ctx.graph.api(`/domains/${encodeURIComponent(name)}`).delete();
      return { domain: name, removed: true, pending: false };
    } catch (err) {
      if (statusOf(err) === 404) return { domain: name, removed: false, pending: false };
      if (statusOf(err) === 400)
        throw new ActionError(`${name} cannot be removed: ${(err as Error).message}`, {
          code: 'DomainInUse',
          hint: 'move its users and groups to another domain ("Change sign-in domain"), or run this step with "force" to rename them to the onmicrosoft.com domain',
          status: 400,
        });
      throw err;
    }
  }
  // A retry (or a second run) finds the forced removal already running: wait for it, do not start another.
  if (!forcing) await ctx.graph.api(`/domains/${encodeURIComponent(name)}/forceDelete`).post({ disableUserAccounts: input.disableRenamedUsers });
  const gone = await pollUntil(ctx, async () => ((await getDomain(ctx.graph, name)) ? undefined : true), { maxWaitMs: input.waitMinutes * 60_000, firstMs: 1_000, maxMs: 15_000 });
  return { domain: name, removed: gone === true, pending: gone !== true };
}, planDomainRemove);

async function planDomainRemove(input: InputOf<typeof c.domainRemove>, { graph }: PlanContext) {
  const d = await requireDomain(graph, input.domain.toLowerCase());
  if (d.isDefault || d.isInitial)
    throw new ActionError(`${d.id} is the ${d.isInitial ? 'initial' : 'default'} domain and cannot be removed`, { code: 'DomainProtected', hint: d.isInitial ? 'the onmicrosoft.com domain stays with the tenant' : 'make another verified domain the default first ("Update domain")' });
  return {
    changes: [change(`domain ${d.id}`, 'exists', true, false, { objectId: d.id })],
    notes: input.force ? [`users and groups with addresses in ${d.id} are renamed to the onmicrosoft.com domain${input.disableRenamedUsers ? ', and the renamed users cannot sign in' : ''}`] : [`fails if users or groups still use ${d.id} (run with force to rename them)`],
  };
}
