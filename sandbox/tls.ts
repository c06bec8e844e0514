// A private CA plus a server certificate for 127.0.0.1 / localhost. MSAL refuses a non-https
// authority, so the sandbox has to speak TLS; clients trust the CA (see trustSandboxCa).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface SandboxTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

function rsaKeys(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

function newCert(publicKeyPem: string, subject: forge.pki.CertificateField[], issuer: forge.pki.CertificateField[], years: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // Positive serial: a leading 0x00..0x7f byte.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + years * YEAR_MS);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  return cert;
}

export function generateTls(): SandboxTls {
  const caKeys = rsaKeys();
  const caKey = forge.pki.privateKeyFromPem(caKeys.privateKeyPem);
  const caName = [
    { name: 'commonName', value: 'Tenantflow Sandbox CA' },
    { name: 'organizationName', value: 'Tenantflow' },
  ];
  const ca = newCert(caKeys.publicKeyPem, caName, caName, 10);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKey, forge.md.sha256.create());

  const serverKeys = rsaKeys();
  const server = newCert(serverKeys.publicKeyPem, [{ name: 'commonName', value: 'localhost' }], caName, 2);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  server.sign(caKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    certPem: forge.pki.certificateToPem(server),
    keyPem: serverKeys.privateKeyPem,
  };
}

let processTls: SandboxTls | undefined;

/**
 * One CA per state folder (so a client that trusted it once keeps trusting it across restarts),
 * or one per process when there is no state folder (so many in-process sandboxes share a CA).
 */
export function loadOrCreateTls(statePath?: string): SandboxTls {
  if (!statePath) {
    processTls ??= generateTls();
    return processTls;
  }
  const dir = join(statePath, 'tls');
  const files = { caPem: join(dir, 'ca.pem'), certPem: join(dir, 'server.pem'), keyPem: join(dir, 'server-key.pem') };
  if (existsSync(files.caPem) && existsSync(files.certPem) && existsSync(files.keyPem)) {
    const loaded = {
      caPem: readFileSync(files.caPem, 'utf8'),
      certPem: readFileSync(files.certPem, 'utf8'),
      keyPem: readFileSync(files.keyPem, 'utf8'),
    };
    const notAfter = forge.pki.certificateFromPem(loaded.certPem).validity.notAfter.getTime();
    if (notAfter - Date.now() > 7 * 24 * 3600 * 1000) return loaded;
  }
  const tls = generateTls();
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.caPem, tls.caPem);
  writeFileSync(files.certPem, tls.certPem);
  writeFileSync(files.keyPem, tls.keyPem, { mode: 0o600 });
  return tls;
}
