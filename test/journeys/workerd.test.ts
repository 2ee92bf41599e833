/** The user journeys on the workerd host (see journeys.ts), the main job at size (scale.ts), and a sharded organization (shards.ts). */
import { journeys } from './journeys.ts';
import { oneRunAtATime } from './runs.ts';
import { scaleJourney } from './scale.ts';
import { shardsJourney } from './shards.ts';

journeys('workerd');
scaleJourney('workerd');
oneRunAtATime('workerd');
shardsJourney('workerd');
