/** Smoke test of src/hosts/node.ts: the Node host as a child process, exporting to moto. */
import { hostSmoke } from './smoke.ts';

hostSmoke('node', process.execPath, ['bin/run-ts.js', 'src/hosts/node.ts']);
