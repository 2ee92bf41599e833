/** The user journeys on the workerd host (see journeys.ts). */
import { journeys } from './journeys.ts';

journeys('workerd');
