// Self-signed certificates for tests of certificate credentials (tenant connections, app
// registrations' keyCredentials), made with node-forge.
import { randomUUID } from 'node:crypto';
import forge from 'node-forge';

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** certificate + private key, as a tenant connection stores it */
  pem: string;
}

export function makeCert(cn: string, opts: { notAfter?: Date; notBefore?: Date; /** IP addresses the certificate names (subjectAltName), for a TLS server on one. */ ips?: string[] } = {}): TestCert {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `01${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  const attrs = [{ name: 'commonName', value: cn }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  if (opts.ips?.length) cert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: opts.ips.map((ip) => ({ type: 7, ip })) }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const keyPem = forge.pki.privateKeyToPem(keys.privateKey);
  return { certPem, keyPem, pem: `${certPem}${keyPem}` };
}

/** The certificate alone as base64 DER: what Graph's keyCredentials[].key holds. */
export function derBase64(certPem: string): string {
  return certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
}
