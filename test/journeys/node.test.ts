/** The user journeys on the node host (see journeys.ts), the main job at size (scale.ts), a sharded organization's ingest (shards.ts) and export (sharded.ts), resharding (reshard.ts). */
import { journeys } from './journeys.ts';
import { oneRunAtATime } from './runs.ts';
import { scaleJourney } from './scale.ts';
import { shardsJourney } from './shards.ts';
import { shardedJourney } from './sharded.ts';
import { reshardJourney } from './reshard.ts';

journeys('node');
scaleJourney('node');
shardedJourney('node');
oneRunAtATime('node');
shardsJourney('node');
reshardJourney('node');
