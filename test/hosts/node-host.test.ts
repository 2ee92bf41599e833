/** The Node host (src/hosts/node.ts) as a child process: its own minute ticker exports to moto. */
import { hostSmoke } from './smoke.ts';

hostSmoke('node');
