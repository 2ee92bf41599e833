/** The user journeys on the deno host (see journeys.ts), and the main job at size (scale.ts). */
import { journeys } from './journeys.ts';
import { oneRunAtATime } from './runs.ts';
import { scaleJourney } from './scale.ts';

journeys('deno');
scaleJourney('deno');
oneRunAtATime('deno');
