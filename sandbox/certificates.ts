// Self-signed certificates for app registrations, made on request (admin API): the sandbox's
// counterpart of `New-SelfSignedCertificate` + uploading the .cer to the app. The private key is
// handed back once and never kept; only the certificate is registered (oidc.ts).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface GeneratedCertificate {
  /** The certificate (PEM). */
  certificatePem: string;
  /** Its private key (PKCS#8 PEM). */
  privateKeyPem: string;
  /** Certificate followed by key: what a tenant connection stores. */
  pem: string;
}

export function generateCertificate(commonName: string, opts: { validDays?: number; nowMs?: number } = {}): GeneratedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  const now = opts.nowMs ?? Date.now();
  cert.validity.notBefore = new Date(now - 86_400_000);
  cert.validity.notAfter = new Date(now + (opts.validDays ?? 365) * 86_400_000);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(cert);
  return { certificatePem, privateKeyPem, pem: `${certificatePem}${privateKeyPem}` };
}
