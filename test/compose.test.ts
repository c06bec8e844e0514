// docker-compose.yml is the production topology. No Docker engine runs here, so the file is
// checked as the Compose client resolves it (`docker compose config`, or Debian's docker-compose
// 1.29 installed by .ci/run, whose YAML is read with python3-yaml, a dependency of it), together
// with the Dockerfile and .env.example. The certificates deploy/compose-certs.sh makes are checked
// for real: an mTLS handshake with the settings Tenantflow reads from the compose environment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { temporalSettingsFromEnv } from '../m365/temporal-connection.ts';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const envExample = readFileSync(join(root, '.env.example'), 'utf8');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

// A throwaway .env, as an operator writes it from .env.example.
const ENV_FILE = [
  'POSTGRES_PASSWORD=pg-password-from-env-file',
  'TENANTFLOW_SECRET_KEY=secret-key-from-env-file',
  'M365_CLIENT_SECRET=m365-secret-from-env-file',
  'TEMPORAL_NAMESPACE_RETENTION=14d',
  'TENANTFLOW_METRICS_TOKEN=metrics-token-from-env-file',
  'GRAFANA_ADMIN_PASSWORD=grafana-password-from-env-file',
].join('\n');

interface Service {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | null>;
  ports?: (string | { host_ip?: string; published?: number | string; target: number })[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  volumes?: (string | { type: string; source?: string; target: string; read_only?: boolean })[];
  restart?: string;
  user?: string;
  tmpfs?: string[] | string;
}

/** Runs the Compose client's `config` on a copy of docker-compose.yml beside `envFile` as `.env`. */
function resolve(envFile: string): { status: number | null; stderr: string; config?: { services: Record<string, Service> } } {
  const dir = mkdtempSync(join(tmpdir(), 'tenantflow-compose-'));
  try {
    copyFileSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
    writeFileSync(join(dir, '.env'), envFile);
    // Only the env file speaks: none of the runner's own variables may fill a gap.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    const v2 = spawnSync('docker', ['compose', 'config', '--format', 'json'], { cwd: dir, env, encoding: 'utf8' });
    if (!v2.error && v2.status === 0) return { status: 0, stderr: v2.stderr, config: JSON.parse(v2.stdout) };
    const v1 = spawnSync('docker-compose', ['config'], { cwd: dir, env, encoding: 'utf8' });
    if (v1.error) return { status: v2.status, stderr: `${v2.stderr}${v2.error ? String(v2.error) : ''}` };
    if (v1.status !== 0) return { status: v1.status, stderr: v1.stderr };
    const json = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: v1.stdout, encoding: 'utf8' });
    assert.equal(json.status, 0, json.stderr);
    return { status: 0, stderr: v1.stderr, config: JSON.parse(json.stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A YAML file of the repository as JSON (python3-yaml, which Debian's docker-compose depends on). */
function yamlFile(path: string): any {
  const json = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(root, path)], { encoding: 'utf8' });
  assert.equal(json.status, 0, json.stderr);
  return JSON.parse(json.stdout);
}

const resolved = resolve(ENV_FILE);
const services = resolved.config?.services ?? {};
const service = (name: string): Service => {
  assert.ok(services[name], `docker-compose.yml has no service ${name}`);
  return services[name];
};
const env = (name: string) => Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, v == null ? '' : String(v)]));
const text = (v: string[] | string | undefined) => (Array.isArray(v) ? v.join(' ') : (v ?? ''));
const oneShot = (s: Service) => s.restart === 'no';
const ports = (s: Service) =>
  (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: p.target };
    const parts = p.replace(/\/\w+$/, '').split(':');
    return { hostIp: parts.length === 3 ? parts[0] : '', published: parts.at(-2) ?? '', target: Number(parts.at(-1)) };
  });
const mounts = (s: Service) =>
  (s.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source ?? '', target: v.target, readOnly: !!v.read_only };
    const [source, target, mode] = v.split(':');
    return { source, target, readOnly: mode === 'ro' };
  });

describe('docker-compose.yml', () => {
  it('is valid Compose with the production services', () => {
    assert.equal(resolved.status, 0, `docker compose config failed (install Debian's docker-compose):\n${resolved.stderr}`);
    assert.deepEqual(Object.keys(services).sort(), ['certs', 'grafana', 'postgresql', 'prometheus', 'server', 'temporal', 'temporal-setup', 'temporal-ui', 'worker']);
  });

  it('checks the health of every long-running service and starts each only when what it needs is healthy or done', () => {
    for (const [name, s] of Object.entries(services)) {
      if (oneShot(s)) continue;
      assert.ok(s.healthcheck?.test && !s.healthcheck.disable, `${name} runs for good but has no health check`);
      assert.equal(s.restart, 'unless-stopped', `${name} should restart unless stopped`);
    }
    assert.deepEqual(Object.keys(services).filter((n) => oneShot(services[n])).sort(), ['certs', 'temporal-setup']);
    for (const [name, s] of Object.entries(services)) {
      assert.ok(!Array.isArray(s.depends_on), `${name}: depends_on without conditions only orders container starts`);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const want = oneShot(service(dep)) ? 'service_completed_successfully' : 'service_healthy';
        assert.equal(condition, want, `${name} depends on ${dep} with ${condition}, not ${want}`);
      }
    }
    const deps = (n: string) => Object.keys(service(n).depends_on ?? {}).sort();
    assert.deepEqual(deps('postgresql'), ['certs']);
    assert.deepEqual(deps('temporal'), ['certs', 'postgresql']);
    assert.deepEqual(deps('temporal-setup'), ['temporal']);
    assert.deepEqual(deps('server'), ['postgresql', 'temporal', 'temporal-setup']);
    assert.deepEqual(deps('worker'), ['server', 'temporal']);
    assert.deepEqual(deps('prometheus'), ['server']);
    assert.deepEqual(deps('grafana'), ['prometheus']);
    assert.match(text(service('server').healthcheck?.test), /\/api\/health/);
    assert.match(text(service('worker').healthcheck?.test), /127\.0\.0\.1:9464\/metrics/);
  });

  it('gives Temporal the dynamic config that keeps each task queue in one partition', () => {
    const path = env('temporal').DYNAMIC_CONFIG_FILE_PATH;
    const mount = mounts(service('temporal')).find((m) => m.target === path);
    assert.ok(mount, `temporal reads its dynamic config from ${path}, which nothing mounts`);
    assert.match(mount.source, /deploy\/temporal-dynamicconfig\.yaml$/);
    assert.ok(mount.readOnly);
    const config = yamlFile('deploy/temporal-dynamicconfig.yaml');
    for (const key of ['matching.numTaskqueueReadPartitions', 'matching.numTaskqueueWritePartitions']) {
      assert.deepEqual(config[key], [{ value: 1 }], key);
    }
  });

  it('creates the namespace with a set retention and the search attributes in a one-shot setup service', () => {
    const setup = service('temporal-setup');
    const script = text(setup.command);
    assert.match(script, /temporal operator namespace create --namespace "\$+TEMPORAL_NAMESPACE" --retention "\$+TEMPORAL_NAMESPACE_RETENTION"/);
    assert.match(script, /temporal operator namespace update --namespace "\$+TEMPORAL_NAMESPACE" --retention/);
    assert.equal(env('temporal-setup').TEMPORAL_NAMESPACE_RETENTION, '14d', 'the retention comes from .env');
    assert.equal(env('temporal-setup').TEMPORAL_NAMESPACE, env('server').TEMPORAL_NAMESPACE);
    assert.equal(env('worker').TEMPORAL_NAMESPACE, env('server').TEMPORAL_NAMESPACE);
    assert.equal(env('temporal').SKIP_DEFAULT_NAMESPACE_CREATION, 'true', 'auto-setup would create `default` with 1 day retention');
    const attrs = [...script.matchAll(/\b(Tenantflow\w+):(\w+)/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(Object.fromEntries(attrs), SEARCH_ATTRIBUTES);
  });

  it('publishes only the server to the world; Temporal not at all, its Web UI on loopback only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of ports(s)) {
        if (name === 'server') continue;
        assert.ok(['127.0.0.1', '::1'].includes(p.hostIp), `${name} publishes ${p.published}:${p.target} on every interface`);
      }
    }
    assert.deepEqual(ports(service('server')).map((p) => [p.hostIp, p.target]), [['', 3000]]);
    assert.deepEqual(ports(service('temporal')), []);
    assert.deepEqual(ports(service('worker')), []);
    assert.deepEqual(ports(service('prometheus')), [], 'Prometheus has no sign-in: it is not published at all');
    assert.deepEqual(ports(service('grafana')).map((p) => [p.hostIp, p.target]), [['127.0.0.1', 3000]]);
    assert.deepEqual(ports(service('temporal-ui')).map((p) => p.hostIp), ['127.0.0.1']);
    assert.match(composeText, /127\.0\.0\.1:8080:8080/);
    assert.match(composeText, /TEMPORAL_AUTH_ENABLED=true/, 'the compose file says how to put the UI behind sign-in');
  });

  it('speaks mTLS to Temporal and TLS to PostgreSQL, from the certs volume', () => {
    const t = env('temporal');
    assert.equal(t.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH, 'true');
    assert.equal(t.TEMPORAL_TLS_FRONTEND_CERT, '/certs/temporal.pem');
    assert.equal(t.TEMPORAL_TLS_FRONTEND_KEY, '/certs/temporal.key');
    assert.equal(t.TEMPORAL_TLS_CLIENT1_CA_CERT, '/certs/ca.pem');
    assert.equal(t.SQL_TLS_ENABLED, 'true');
    for (const name of ['server', 'worker', 'temporal-setup', 'temporal-ui']) {
      const e = env(name);
      assert.equal(e.TEMPORAL_ADDRESS, 'temporal:7233', name);
      assert.equal(e.TEMPORAL_TLS_CERT, '/certs/client.pem', name);
      assert.equal(e.TEMPORAL_TLS_KEY, '/certs/client.key', name);
      assert.equal(e.TEMPORAL_TLS_CA, '/certs/ca.pem', name);
    }
    for (const name of ['temporal', 'temporal-setup']) {
      // The `temporal` CLI of the health check and the setup job.
      const e = env(name);
      assert.equal(e.TEMPORAL_TLS_CLIENT_CERT_PATH, '/certs/client.pem', name);
      assert.equal(e.TEMPORAL_TLS_CLIENT_KEY_PATH, '/certs/client.key', name);
      assert.equal(e.TEMPORAL_TLS_SERVER_CA_CERT_PATH, '/certs/ca.pem', name);
      assert.equal(e.TEMPORAL_TLS_SERVER_NAME, 'temporal', name);
    }
    for (const name of ['postgresql', 'temporal', 'temporal-setup', 'temporal-ui', 'server', 'worker']) {
      assert.ok(mounts(service(name)).some((m) => m.source.endsWith('certs') && m.target === '/certs' && m.readOnly), `${name} mounts the certs volume read-only`);
    }
    assert.ok(mounts(service('certs')).some((m) => m.target === '/certs' && !m.readOnly));
    assert.match(text(service('certs').entrypoint), /deploy\/compose-certs\.sh \/certs/);
    assert.match(text(service('postgresql').command), /ssl=on.*ssl_cert_file=\/certs\/postgresql\.pem.*ssl_key_file=\/certs\/postgresql\.key/);
    for (const name of ['server', 'worker']) {
      const url = new URL(env(name).DATABASE_URL);
      assert.equal(url.hostname, 'postgresql');
      assert.equal(url.searchParams.get('sslmode'), 'verify-full', `${name} verifies PostgreSQL's certificate`);
      assert.equal(url.searchParams.get('sslrootcert'), '/certs/ca.pem');
    }
  });

  describe('the certificates deploy/compose-certs.sh makes', () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'tenantflow-certs-'));
      const res = spawnSync('sh', [join(root, 'deploy/compose-certs.sh'), dir], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('carry an mTLS handshake to `temporal` with the settings the server and worker read from the compose environment', async () => {
      const fromCompose = Object.fromEntries(Object.entries(env('worker')).map(([k, v]) => [k, v.replace(/^\/certs\//, `${dir}/`)]));
      const settings = temporalSettingsFromEnv(fromCompose);
      assert.equal(settings.address, 'temporal:7233');
      const tls = settings.tls;
      assert.ok(tls && typeof tls === 'object' && tls.clientCertPair && tls.serverRootCACertificate, 'the worker would connect without a client certificate');
      const server = createServer({
        cert: readFileSync(join(dir, 'temporal.pem')),
        key: readFileSync(join(dir, 'temporal.key')),
        ca: readFileSync(join(dir, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      });
      const seen = new Promise<string>((res) => server.on('secureConnection', (s: TLSSocket) => {
        res(String(s.getPeerCertificate().subject.CN));
        s.end();
      }));
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      try {
        const port = (server.address() as { port: number }).port;
        const client = connect({ host: '127.0.0.1', port, servername: 'temporal', ca: Buffer.from(tls.serverRootCACertificate), cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) });
        await new Promise<void>((res, rej) => client.on('secureConnect', res).on('error', rej));
        assert.equal(client.authorized, true, String(client.authorizationError));
        assert.equal(await seen, 'tenantflow');
        client.destroy();
      } finally {
        server.close();
      }
    });

    it('keep what is there on a second run, and keep the private keys from other users', () => {
      const before = readFileSync(join(dir, 'ca.pem'), 'utf8');
      const res = spawnSync('sh', [join(root, 'deploy/compose-certs.sh'), dir], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      assert.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), before);
      for (const key of ['temporal.key', 'postgresql.key', 'client.key']) {
        const stat = spawnSync('stat', ['-c', '%a', join(dir, key)], { encoding: 'utf8' });
        assert.equal(stat.stdout.trim(), '600', key);
      }
      const verify = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'postgresql.pem')], { encoding: 'utf8' });
      assert.equal(verify.status, 0, verify.stderr);
      const san = spawnSync('openssl', ['x509', '-in', join(dir, 'postgresql.pem'), '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
      assert.match(san.stdout, /DNS:postgresql\b/);
    });
  });

  it('takes secrets from .env only: no secret defaults, and a missing one stops Compose', () => {
    assert.equal(env('postgresql').POSTGRES_PASSWORD, 'pg-password-from-env-file');
    assert.equal(env('server').TENANTFLOW_SECRET_KEY, 'secret-key-from-env-file');
    assert.equal(env('worker').TENANTFLOW_SECRET_KEY, 'secret-key-from-env-file');
    for (const name of ['server', 'worker']) {
      assert.match(composeText, new RegExp(`\\n  ${name}:\\n(?:    .*\\n|\\s*\\n)*?    env_file: \\.env\\n`), `${name} reads env_file: .env`);
      assert.equal(env(name).M365_CLIENT_SECRET, 'm365-secret-from-env-file', `${name} gets the variables of .env`);
    }
    assert.equal(env('temporal-ui').M365_CLIENT_SECRET, undefined, 'the Web UI gets no Tenantflow secrets');
    assert.equal(env('postgresql').TENANTFLOW_SECRET_KEY, undefined, 'PostgreSQL gets no Tenantflow secrets');
    const secretish = /PASSWORD|SECRET|_KEY\b|TOKEN|PWD/;
    for (const m of composeText.matchAll(/(?<!\$)\$\{(\w+)(:?[-?])?([^}]*)\}/g)) {
      if (secretish.test(m[1])) assert.notEqual(m[2]?.at(-1), '-', `\${${m[1]}} has a default value`);
    }
    const missing = resolve('TENANTFLOW_SECRET_KEY=only-this\n');
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /POSTGRES_PASSWORD/);
  });

  it('.env.example lists every variable, with no secret values', () => {
    const listed = new Map([...envExample.matchAll(/^#?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    const fromCompose = [...composeText.matchAll(/(?<!\$)\$\{(\w+)/g)].map((m) => m[1]);
    const settings = ['M365_TENANT_ID', 'M365_CLIENT_ID', 'M365_CLIENT_SECRET', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URI', 'PUBLIC_URL', 'TENANTFLOW_ADMIN_EMAIL', 'TENANTFLOW_DEFAULT_TENANT', 'TENANTFLOW_METRICS_TOKEN', 'TENANTFLOW_MAIL_FROM', 'DATABASE_OWNER_URL', 'TEMPORAL_API_KEY'];
    for (const name of [...fromCompose, ...settings]) assert.ok(listed.has(name), `.env.example does not list ${name}`);
    for (const [name, value] of listed) {
      if (/PASSWORD|SECRET|_KEY$|TOKEN/.test(name)) assert.equal(value, '', `.env.example gives ${name} a value`);
    }
    // An empty optional value would reach the server as '' rather than unset: they stay commented.
    for (const [name, value] of listed) {
      if (value === '' && !/^(POSTGRES_PASSWORD|TENANTFLOW_SECRET_KEY|TENANTFLOW_METRICS_TOKEN|GRAFANA_ADMIN_PASSWORD)$/.test(name)) assert.match(envExample, new RegExp(`^#${name}=$`, 'm'), `${name} is empty but not commented out`);
    }
    const ignored = readFileSync(join(root, '.gitignore'), 'utf8').split('\n');
    assert.ok(ignored.includes('.env'), '.env is git-ignored');
    assert.ok(readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').includes('.env'), '.env stays out of the image');
  });

  it('keeps the metrics wiring: worker metrics on 9464, read by the server', () => {
    assert.equal(env('worker').TENANTFLOW_METRICS_PORT, '9464');
    assert.equal(env('server').TENANTFLOW_WORKER_METRICS, 'http://worker:9464/metrics');
  });

  describe('monitoring: Prometheus and Grafana', () => {
    const prometheus = yamlFile('deploy/prometheus.yml') as { scrape_configs: Record<string, any>[] };
    const job = (name: string) => {
      const j = prometheus.scrape_configs.find((x) => x.job_name === name);
      assert.ok(j, `deploy/prometheus.yml has no job ${name}`);
      return j;
    };

    it('Prometheus scrapes the server with its metrics token and every worker replica found through Docker\'s DNS', () => {
      const p = service('prometheus');
      assert.ok(mounts(p).some((m) => m.source.endsWith('/deploy/prometheus.yml') && m.target === '/etc/prometheus/prometheus.yml' && m.readOnly), 'the config file of the repository, read-only');
      assert.ok(mounts(p).some((m) => m.target === '/prometheus' && !m.source.startsWith('/')), 'the time series on a named volume');
      const server = job('tenantflow-server');
      assert.deepEqual(server.static_configs.flatMap((c: { targets: string[] }) => c.targets), ['server:3000']);
      assert.equal(server.metrics_path, '/metrics');
      assert.equal(server.authorization?.type, 'Bearer');
      const script = text(p.command);
      assert.ok(script.includes(`> ${server.authorization.credentials_file} `), 'the entrypoint writes the token where the scrape job reads it');
      assert.match(script, /umask 077/, 'the token file is readable by Prometheus\'s user only');
      assert.ok(text(p.tmpfs).split(' ').includes(server.authorization.credentials_file.replace(/\/[^/]+$/, '')), 'the token file is on a tmpfs, never on disk');
      assert.match(script, /exec \/bin\/prometheus --config\.file=\/etc\/prometheus\/prometheus\.yml /);
      assert.equal(env('prometheus').TENANTFLOW_METRICS_TOKEN, 'metrics-token-from-env-file');
      assert.equal(env('server').TENANTFLOW_METRICS_TOKEN, 'metrics-token-from-env-file', 'the server asks for the same token');
      // Every replica of `--scale worker=N`: the service name answers with one A record per container.
      const port = (address: string) => Number(address.split(':').at(-1));
      assert.deepEqual(job('tenantflow-worker').dns_sd_configs.map((c: Record<string, unknown>) => [c.names, c.type, c.port]), [[['worker'], 'A', Number(env('worker').TENANTFLOW_METRICS_PORT)]]);
      assert.deepEqual(job('tenantflow-worker-sdk').dns_sd_configs.map((c: Record<string, unknown>) => [c.names, c.type, c.port]), [[['worker'], 'A', port(env('worker').TENANTFLOW_SDK_METRICS_ADDRESS)]]);
      assert.match(env('worker').TENANTFLOW_SDK_METRICS_ADDRESS, /^0\.0\.0\.0:\d+$/, 'the SDK metrics are reachable on the compose network');
      assert.match(text(p.healthcheck?.test), /127\.0\.0\.1:9090\/-\/ready/);
      // Debian's promtool (the prometheus package) checks the file as Prometheus reads it.
      const check = spawnSync('promtool', ['check', 'config', '--syntax-only', join(root, 'deploy/prometheus.yml')], { encoding: 'utf8' });
      if (check.error) console.warn('promtool is not installed (apt-get install prometheus): deploy/prometheus.yml was checked by its structure only');
      else assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    });

    it('Grafana signs people in (admin password from .env), on loopback, provisioned with that Prometheus and the dashboard', () => {
      const g = env('grafana');
      assert.equal(g.GF_SECURITY_ADMIN_PASSWORD, 'grafana-password-from-env-file');
      assert.equal(g.GF_AUTH_ANONYMOUS_ENABLED, 'false');
      assert.equal(g.GF_USERS_ALLOW_SIGN_UP, 'false');
      assert.equal(g.M365_CLIENT_SECRET, undefined, 'Grafana gets no Tenantflow secrets');
      assert.equal(g.TENANTFLOW_METRICS_TOKEN, undefined, 'Grafana reads Prometheus, not the server');
      assert.match(text(service('grafana').healthcheck?.test), /127\.0\.0\.1:3000\/api\/health/);
      const m = mounts(service('grafana'));
      assert.ok(m.some((x) => x.source.endsWith('/deploy/grafana/provisioning') && x.target === '/etc/grafana/provisioning' && x.readOnly));
      assert.ok(m.some((x) => x.target === '/var/lib/grafana' && !x.source.startsWith('/')), 'its database on a named volume');
      const dashboardMount = m.find((x) => x.source.endsWith('/docs/grafana-dashboard.json'));
      assert.ok(dashboardMount?.readOnly, 'docs/grafana-dashboard.json is mounted read-only');

      const sources = yamlFile('deploy/grafana/provisioning/datasources/prometheus.yml').datasources as Record<string, unknown>[];
      assert.equal(sources.length, 1);
      assert.equal(sources[0]!.type, 'prometheus');
      assert.equal(sources[0]!.isDefault, true);
      assert.equal(sources[0]!.url, `http://prometheus:${/--web\.listen-address=:(\d+)/.exec(text(service('prometheus').command))?.[1]}`, 'the data source is the compose Prometheus');
      const providers = yamlFile('deploy/grafana/provisioning/dashboards/tenantflow.yml').providers as { type: string; options: { path: string } }[];
      assert.deepEqual(providers.map((p) => p.type), ['file']);
      assert.equal(dashboardMount!.target.replace(/\/[^/]+$/, ''), providers[0]!.options.path, 'the dashboard is mounted where the provider reads');
      assert.equal(g.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, dashboardMount!.target);
      // The dashboard picks the default Prometheus data source (its `datasource` variable).
      const dashboard = JSON.parse(readFileSync(join(root, 'docs/grafana-dashboard.json'), 'utf8')) as { templating: { list: { name: string; type: string; query: string }[] }; panels: { datasource: { uid: string } }[] };
      assert.deepEqual(dashboard.templating.list.filter((v) => v.type === 'datasource').map((v) => [v.name, v.query]), [['datasource', 'prometheus']]);
      for (const p of dashboard.panels) assert.equal(p.datasource.uid, '${datasource}');
    });

    it('run as their images\' own non-root users', () => {
      assert.equal(service('prometheus').user, '65534:65534');
      assert.equal(service('grafana').user, '472');
    });
  });

  it('runs the image as a non-root user who owns the data directory, mounted as a volume', () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const users = [...finalStage.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(users.length > 0, 'the image sets no USER');
    assert.ok(!['root', '0'].includes(users.at(-1)!), 'the image runs as root');
    assert.equal(users.at(-1), 'node');
    assert.match(finalStage, /chown node:node \/app\/data/);
    assert.match(finalStage, /^VOLUME \/app\/data$/m);
    assert.match(finalStage, /TENANTFLOW_DATA=\/app\/data/);
    assert.match(finalStage, /^COPY --from=build \/app\/deploy \.\/deploy$/m);
    for (const name of ['server', 'worker']) {
      const s = service(name);
      assert.equal(s.user, undefined, `${name} keeps the image's user`);
      assert.equal(env(name).TENANTFLOW_DATA, '/app/data');
      assert.ok(mounts(s).some((m) => m.target === '/app/data' && !m.readOnly && !m.source.startsWith('/')), `${name} keeps its data on a named volume`);
    }
    assert.equal(service('certs').user, '0', 'only the one-shot certs job runs as root (to set key owners)');
  });
});
