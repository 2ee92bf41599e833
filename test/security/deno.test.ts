/** The security suite on the Deno host (see suite.ts). */
import { securitySuite } from './suite.ts';

securitySuite('deno');
