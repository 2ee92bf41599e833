/** The user journeys on the workerd host (see journeys.ts), and the main job at size (scale.ts). */
import { journeys } from './journeys.ts';
import { oneRunAtATime } from './runs.ts';
import { scaleJourney } from './scale.ts';

journeys('workerd');
scaleJourney('workerd');
oneRunAtATime('workerd');
