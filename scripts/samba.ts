// The embedded on-premises Active Directory: a Samba AD domain controller provisioned into a
// throwaway folder, started in the foreground bound to one loopback address, seeded with OUs,
// a service account, users and groups, and stopped with the run. Used by `npm test` (one DC for the
// whole run) and by `npm start`'s hybrid mode (TENANTFLOW_HYBRID=1).
//
// Samba's LDAP server has no port setting: it always listens on 389 / 636 (and 3268 / 3269). So that
// several runs on one machine never clash, each DC binds its own address on the loopback interface
// (127.x.y.z: Linux answers the whole 127.0.0.0/8 on lo), chosen at random and checked free.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainDn, type AdConnection } from '../m365/ad-connection.ts';
import { createAdClient, GROUP_TYPE, UAC, type AdSession } from '../m365/ad.ts';

export const SAMBA_PACKAGES = 'samba samba-ad-dc samba-ad-provision winbind';

function which(cmd: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':')]) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** Why the embedded DC cannot start on this machine, or undefined when it can. */
export function sambaUnavailable(): string | undefined {
  const missing = ['samba', 'samba-tool', 'openssl'].filter((c) => !which(c));
  if (missing.length)
    return `${missing.join(', ')} not installed: apt-get install -y --no-install-recommends ${SAMBA_PACKAGES} openssl (as root; .ci/run does this)`;
  if (process.getuid?.() !== 0) return 'the Samba AD DC must run as root (it listens on the LDAP ports 389 / 636 and owns its database files)';
  return undefined;
}

export interface SambaDc {
  /** The connection an on-premises worker uses: the seeded service account (an Account Operator). */
  connection: AdConnection;
  /** The domain's Administrator (tests read objects back with it; never used by actions). */
  admin: { user: string; password: string };
  /** The loopback address the DC listens on (389 / 636). */
  host: string;
  /** ldaps://host:636 */
  url: string;
  /** PEM of the DC's self-signed certificate (trusted from this file, not skipped). */
  caPem: string;
  caFile: string;
  /** The folder holding the domain's database, smb.conf and certificate. */
  dir: string;
  /** Seeded objects by role, for tests and the demo. */
  seeded: { staffOu: string; groupsOu: string; leaversOu: string; serviceOu: string; rootOu: string; users: string[]; groups: string[] };
  stop(): Promise<void>;
}

export interface SambaOptions {
  /** Folder for the domain; a fresh temporary one (removed on stop) when absent. */
  dir?: string;
  /** DNS name of the AD domain. Default corp.contoso.com. */
  domain?: string;
  /** UPN suffix users get (a verified domain of the cloud tenant). Default contoso.com. */
  upnSuffix?: string;
  /** AD connection name (the on-premises task queue is tenantflow-onprem-<name>). Default corp. */
  name?: string;
  log?: (msg: string) => void;
}

const canConnect = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

async function freeLoopbackAddress(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const host = `127.${randomInt(64, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
    if (!(await canConnect(host, 636)) && !(await canConnect(host, 389))) return host;
  }
  throw new Error('no free loopback address for the Samba DC');
}

/** A password that satisfies AD's default complexity policy. */
export function strongPassword(): string {
  return `Tf-${randomBytes(9).toString('base64url')}-9a`;
}

function run(cmd: string, args: string[], what: string): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${what} failed (exit ${res.status}):\n${(res.stderr || res.stdout || '').slice(-3000)}`);
  return res.stdout;
}

export async function startSambaDc(opts: SambaOptions = {}): Promise<SambaDc> {
  const why = sambaUnavailable();
  if (why) throw new Error(`cannot start the Samba AD DC: ${why}`);
  const log = opts.log ?? (() => {});
  const domain = (opts.domain ?? 'corp.contoso.com').toLowerCase();
  const realm = domain.toUpperCase();
  const netbios = domain.split('.')[0]!.toUpperCase().slice(0, 15);
  const upnSuffix = opts.upnSuffix ?? 'contoso.com';
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tenantflow-samba-'));
  mkdirSync(dir, { recursive: true });
  const adminPassword = strongPassword();
  const base = domainDn(domain);

  log(`samba: provisioning ${domain} in ${dir}...`);
  run(
    which('samba-tool')!,
    ['domain', 'provision', `--targetdir=${dir}`, `--realm=${realm}`, `--domain=${netbios}`, '--server-role=dc', '--dns-backend=NONE', `--adminpass=${adminPassword}`, '--host-name=dc1'],
    'samba-tool domain provision',
  );

  const host = await freeLoopbackAddress();
  const fqdn = `dc1.${domain}`;
  const tlsDir = join(dir, 'tls');
  mkdirSync(tlsDir, { recursive: true });
  // A self-signed certificate naming the DC and the address it listens on; clients trust this file.
  run(
    which('openssl')!,
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', `/CN=${fqdn}`, '-addext', `subjectAltName=DNS:${fqdn},IP:${host}`, '-keyout', join(tlsDir, 'key.pem'), '-out', join(tlsDir, 'cert.pem')],
    'openssl req',
  );
  const caFile = join(tlsDir, 'cert.pem');
  const caPem = readFileSync(caFile, 'utf8');

  const conf = join(dir, 'etc', 'tenantflow.conf');
  writeFileSync(
    conf,
    `[global]
	netbios name = DC1
	realm = ${realm}
	workgroup = ${netbios}
	server role = active directory domain controller
	server services = ldap
	interfaces = ${host}/8
	bind interfaces only = yes
	private dir = ${dir}/private
	lock directory = ${dir}
	state directory = ${dir}/state
	cache directory = ${dir}/cache
	binddns dir = ${dir}/bind-dns
	pid directory = ${dir}
	log file = ${dir}/samba.log
	logging = file
	tls enabled = yes
	tls keyfile = ${tlsDir}/key.pem
	tls certfile = ${tlsDir}/cert.pem
	tls cafile =
	ldap server require strong auth = yes
	dsdb:schema update allowed = true
`,
  );

  log(`samba: starting the DC on ${host} (LDAPS 636)...`);
  const child: ChildProcess = spawn(which('samba')!, ['-i', '-M', 'single', '-s', conf, '--debuglevel=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  const adminConn: AdConnection = { name: 'admin', domain, hosts: [host], bindUser: `Administrator@${domain}`, bindPassword: adminPassword, caPem };
  const admin = createAdClient(adminConn);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`samba exited (${child.exitCode}) before it answered:\n${output}`);
    }
    if (await canConnect(host, 636)) {
      try {
        await admin.session(async () => {});
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          await stop();
          throw err;
        }
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`samba did not answer on ${host}:636 within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const rootOu = `OU=Tenantflow,${base}`;
  const seeded = {
    rootOu,
    staffOu: `OU=Staff,${rootOu}`,
    groupsOu: `OU=Groups,${rootOu}`,
    leaversOu: `OU=Leavers,${rootOu}`,
    serviceOu: `OU=Service Accounts,${base}`,
    users: [] as string[],
    groups: [] as string[],
  };
  const service = { user: `svc-tenantflow@${domain}`, password: strongPassword() };
  try {
    await admin.session((s) => seed(s, seeded, upnSuffix, service));
  } catch (err) {
    await stop();
    throw err;
  }
  log(`samba: ${domain} is up on ldaps://${host}:636`);

  return {
    connection: {
      name: opts.name ?? 'corp',
      domain,
      hosts: [host],
      bindUser: service.user,
      bindPassword: service.password,
      caPem,
      usersOu: seeded.staffOu,
      groupsOu: seeded.groupsOu,
      leaversOu: seeded.leaversOu,
      syncOus: [rootOu],
      anchorAttribute: 'objectGUID',
      upnSuffix,
    },
    admin: { user: adminConn.bindUser, password: adminPassword },
    host,
    url: `ldaps://${host}:636`,
    caPem,
    caFile,
    dir,
    seeded,
    stop,
  };
}

/** The demo directory: OUs, a service account, people with a manager, and groups. */
async function seed(s: AdSession, o: SambaDc['seeded'], upnSuffix: string, service: { user: string; password: string }): Promise<void> {
  // The cloud tenant's domain as an alternative UPN suffix of the forest (what admins add before syncing).
  await s.modify(`CN=Partitions,CN=Configuration,${s.baseDn}`, [{ operation: 'add', attribute: 'uPNSuffixes', values: [upnSuffix] }]);
  await extendSchemaForExchange(s);
  // A lockout policy as most domains have one: 5 wrong passwords lock an account for 30 minutes.
  await s.modify(s.baseDn, [
    { operation: 'replace', attribute: 'lockoutThreshold', values: ['5'] },
    { operation: 'replace', attribute: 'lockoutDuration', values: ['-18000000000'] },
    { operation: 'replace', attribute: 'lockOutObservationWindow', values: ['-18000000000'] },
  ]);
  for (const ou of [o.rootOu, o.staffOu, o.groupsOu, o.leaversOu, o.serviceOu])
    await s.add(ou, { objectClass: ['top', 'organizationalUnit'], ou: ou.split(',')[0]!.slice(3) });

  const addUser = async (dn: string, attrs: Record<string, string>, password: string) => {
    await s.add(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'user'], userAccountControl: String(UAC.NORMAL_ACCOUNT | UAC.ACCOUNTDISABLE), ...attrs });
    await s.setPassword(dn, password);
    await s.modify(dn, [{ operation: 'replace', attribute: 'userAccountControl', values: [String(UAC.NORMAL_ACCOUNT)] }]);
  };
  const svcDn = `CN=Tenantflow service,${o.serviceOu}`;
  await addUser(svcDn, { sAMAccountName: 'svc-tenantflow', userPrincipalName: service.user, displayName: 'Tenantflow service' }, service.password);
  // Least privilege that still runs every action: Account Operators may create, change and delete
  // users and groups (not administrators) and reset their passwords.
  await s.modify(`CN=Account Operators,CN=Builtin,${s.baseDn}`, [{ operation: 'add', attribute: 'member', values: [svcDn] }]);

  const people = [
    { sam: 'nora.berg', given: 'Nora', sn: 'Berg', title: 'Head of Finance', dept: 'Finance' },
    { sam: 'omar.haddad', given: 'Omar', sn: 'Haddad', title: 'Accountant', dept: 'Finance', manager: 'nora.berg' },
    { sam: 'lena.fischer', given: 'Lena', sn: 'Fischer', title: 'Sales Manager', dept: 'Sales' },
    { sam: 'tom.wright', given: 'Tom', sn: 'Wright', title: 'Account Executive', dept: 'Sales', manager: 'lena.fischer' },
  ];
  for (const p of people) {
    const dn = `CN=${p.given} ${p.sn},${o.staffOu}`;
    await addUser(
      dn,
      {
        sAMAccountName: p.sam,
        userPrincipalName: `${p.sam}@${upnSuffix}`,
        givenName: p.given,
        sn: p.sn,
        displayName: `${p.given} ${p.sn}`,
        title: p.title,
        department: p.dept,
        company: 'Contoso',
        mail: `${p.sam}@${upnSuffix}`,
        ...(p.manager ? { manager: `CN=${people.find((x) => x.sam === p.manager)!.given} ${people.find((x) => x.sam === p.manager)!.sn},${o.staffOu}` } : {}),
      },
      strongPassword(),
    );
    o.users.push(dn);
  }
  const groups = [
    { cn: 'Staff', type: GROUP_TYPE.GLOBAL | GROUP_TYPE.SECURITY, members: people.map((p) => p.sam) },
    { cn: 'Finance', type: GROUP_TYPE.GLOBAL | GROUP_TYPE.SECURITY, members: ['nora.berg', 'omar.haddad'] },
    { cn: 'Sales Team', type: GROUP_TYPE.UNIVERSAL, mail: `sales.team@${upnSuffix}`, members: ['lena.fischer', 'tom.wright'] },
  ];
  for (const g of groups) {
    const dn = `CN=${g.cn},${o.groupsOu}`;
    await s.add(dn, {
      objectClass: ['top', 'group'],
      sAMAccountName: g.cn.replace(/\s+/g, '-'),
      groupType: String(g.type | 0),
      ...(g.mail ? { mail: g.mail, mailNickname: g.mail.split('@')[0]! } : {}),
      member: g.members.map((sam) => {
        const p = people.find((x) => x.sam === sam)!;
        return `CN=${p.given} ${p.sn},${o.staffOu}`;
      }),
    });
    o.groups.push(dn);
  }
}

/**
 * The Exchange attributes Tenantflow's hybrid actions write, added to the schema the way Exchange's
 * own schema preparation (Setup /PrepareSchema) defines them: same lDAPDisplayName, attributeID,
 * syntax and (where known) schemaIDGUID, allowed on the mailRecipient auxiliary class that users,
 * groups and contacts carry. Exchange's full schema extension is not available offline; a real domain
 * gets these from Exchange Server setup (see docs/hybrid.md), and then nothing here differs.
 */
export const EXCHANGE_ATTRIBUTES: { cn: string; ldap: string; id: string; syntax: string; om: number; guid?: string; upper?: number }[] = [
  { cn: 'ms-Exch-Mail-Nickname', ldap: 'mailNickname', id: '1.2.840.113556.1.2.447', syntax: '2.5.5.12', om: 64, upper: 64 },
  { cn: 'ms-Exch-Target-Address', ldap: 'targetAddress', id: '1.2.840.113556.1.2.352', syntax: '2.5.5.12', om: 64, upper: 1123 },
  { cn: 'ms-Exch-Recipient-Type-Details', ldap: 'msExchRecipientTypeDetails', id: '1.2.840.113556.1.4.7000.102.50855', syntax: '2.5.5.16', om: 65, guid: '+KGbBgpUqUK/JqfdNUdTRg==' },
  { cn: 'ms-Exch-Recipient-Display-Type', ldap: 'msExchRecipientDisplayType', id: '1.2.840.113556.1.4.7000.102.50730', syntax: '2.5.5.9', om: 2, guid: 'sKuTuH52IE+RXzhXu8lq/g==' },
  { cn: 'ms-Exch-Remote-Recipient-Type', ldap: 'msExchRemoteRecipientType', id: '1.2.840.113556.1.4.7000.102.51611', syntax: '2.5.5.16', om: 65 },
  { cn: 'ms-Exch-Hide-From-Address-Lists', ldap: 'msExchHideFromAddressLists', id: '1.2.840.113556.1.4.7000.102.73', syntax: '2.5.5.8', om: 1, guid: Buffer.from([150, 11, 28, 162, 147, 176, 210, 17, 170, 6, 0, 192, 79, 142, 237, 216]).toString('base64') },
];

async function extendSchemaForExchange(s: AdSession): Promise<void> {
  const schema = `CN=Schema,CN=Configuration,${s.baseDn}`;
  for (const a of EXCHANGE_ATTRIBUTES) {
    await s.add(`CN=${a.cn},${schema}`, {
      objectClass: ['top', 'attributeSchema'],
      lDAPDisplayName: a.ldap,
      attributeID: a.id,
      attributeSyntax: a.syntax,
      oMSyntax: String(a.om),
      isSingleValued: 'TRUE',
      isMemberOfPartialAttributeSet: 'TRUE',
      searchFlags: '1',
      ...(a.upper ? { rangeUpper: String(a.upper) } : {}),
      ...(a.guid ? { schemaIDGUID: Buffer.from(a.guid, 'base64') } : {}),
    });
  }
  await s.modify('', [{ operation: 'replace', attribute: 'schemaUpdateNow', values: ['1'] }]);
  await s.modify(`CN=Mail-Recipient,${schema}`, [{ operation: 'add', attribute: 'mayContain', values: EXCHANGE_ATTRIBUTES.map((a) => a.ldap) }]);
  await s.modify('', [{ operation: 'replace', attribute: 'schemaUpdateNow', values: ['1'] }]);
}

/** DC settings handed to test files through the environment (one DC for the whole `npm test`). */
export function sambaEnv(dc: SambaDc): Record<string, string> {
  return {
    TENANTFLOW_TEST_AD: JSON.stringify({ connection: dc.connection, admin: dc.admin, seeded: dc.seeded, host: dc.host }),
  };
}
