/** The user journeys on the deno host (see journeys.ts), the main job at size (scale.ts), and a sharded organization (shards.ts). */
import { journeys } from './journeys.ts';
import { oneRunAtATime } from './runs.ts';
import { scaleJourney } from './scale.ts';
import { shardsJourney } from './shards.ts';

journeys('deno');
scaleJourney('deno');
oneRunAtATime('deno');
shardsJourney('deno');
