/** The user journeys on the deno host (see journeys.ts). */
import { journeys } from './journeys.ts';

journeys('deno');
