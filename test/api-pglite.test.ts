// The API suite on the embedded database (the default of `npm start`).
import { apiSuite } from './api-suite.ts';

apiSuite('pglite');
