// How the worker and the server reach Temporal: the embedded dev server by default, or an
// external cluster (self-hosted or Temporal Cloud) through environment variables.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from '@temporalio/client';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: ConnectionOptions['tls'];
  apiKey?: string;
}

/**
 * TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, and for TLS / Temporal
 * Cloud: TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY (mTLS files), TEMPORAL_TLS_CA, TEMPORAL_API_KEY.
 */
export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, fallbackAddress = '127.0.0.1:7233'): TemporalSettings {
  const cert = env.TEMPORAL_TLS_CERT;
  const key = env.TEMPORAL_TLS_KEY;
  const ca = env.TEMPORAL_TLS_CA;
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  let tls: ConnectionOptions['tls'];
  if (cert && key) {
    tls = {
      clientCertPair: { crt: readFileSync(cert), key: readFileSync(key) },
      serverRootCACertificate: ca ? readFileSync(ca) : undefined,
    };
  } else if (ca) {
    tls = { serverRootCACertificate: readFileSync(ca) };
  } else if (apiKey || env.TEMPORAL_TLS === 'true') {
    tls = true;
  }
  return {
    address: env.TEMPORAL_ADDRESS || fallbackAddress,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE || 'tenantflow',
    tls,
    apiKey,
  };
}

export function connectionOptions(s: TemporalSettings): ConnectionOptions & { apiKey?: string } {
  return { address: s.address, tls: s.tls, apiKey: s.apiKey };
}
