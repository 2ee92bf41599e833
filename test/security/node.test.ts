/** The security suite on the Node host (see suite.ts). */
import { securitySuite } from './suite.ts';

securitySuite('node');
