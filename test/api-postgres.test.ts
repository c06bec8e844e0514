// The API suite on PostgreSQL: DATABASE_URL's server, or a throwaway cluster from Debian's
// packages (.ci/run installs them). Skipped, loudly, where neither exists.
import { describe, it } from 'node:test';
import { postgresAvailable } from './api-harness.ts';
import { apiSuite } from './api-suite.ts';

if (postgresAvailable()) apiSuite('postgres');
else describe('API on PostgreSQL', () => it('needs PostgreSQL (apt-get install postgresql) or DATABASE_URL', (t) => t.skip('PostgreSQL is not installed')));
