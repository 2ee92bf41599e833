/**
 * Sharded profile storage on workerd (docs/SCALE.md): the shard contract against the real
 * `ProfileShard` Durable Object with SQLite storage (each call an RPC through the SHARDS binding).
 */
import { env } from 'cloudflare:workers';
import { shardNamespace, type ShardStore } from '../../src/worker/shards/types.ts';
import { shardContract } from '../hosts/shard-contract.ts';

/**
 * The stub's calls as plain promises: an RPC promise is also a stub, so the matchers' property probes
 * (`expect(p).rejects`) would each start a pipelined call whose rejection nobody handles.
 */
function plain(stub: ShardStore): ShardStore {
  return {
    upsertProfiles: async (...args) => await stub.upsertProfiles(...args),
    insertMissingProfiles: async (...args) => await stub.insertMissingProfiles(...args),
    profiles: async (...args) => await stub.profiles(...args),
    split: async (...args) => await stub.split(...args),
    deleteBuckets: async (...args) => await stub.deleteBuckets(...args),
  };
}

let n = 0;
shardContract('workerd (ProfileShard Durable Object)', () => plain(shardNamespace(env.SHARDS)!.shard('org_x', `contract-${++n}`)));
