/** The user journeys on the node host (see journeys.ts). */
import { journeys } from './journeys.ts';

journeys('node');
