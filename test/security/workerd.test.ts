/** The security suite on the Worker in workerd, as `npm start` runs it (see suite.ts). */
import { securitySuite } from './suite.ts';

securitySuite('workerd');
