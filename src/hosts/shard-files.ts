/**
 * A single-process host's shards (docs/SCALE.md, "Layout"): one SQLite file per `${orgId}/${shardName}`
 * in a folder beside the host's database, each opened on first use and running the same
 * `SqlShardStore` a `ProfileShard` Durable Object runs. Runtime-agnostic: the host opens the files.
 */
import { SqlShardStore } from '../worker/shards/store.ts';
import type { ShardNamespace, ShardSql, ShardStore } from '../worker/shards/types.ts';
import type { SqliteD1 } from './sqlite-d1.ts';

/** An opened shard file: its database behind the D1 adapter (D1's and a Durable Object's 2 MB value limit). */
export interface ShardFile {
  readonly db: SqliteD1;
  close(): void;
}

/** A ShardSql over a host's SQLite: statements run synchronously, `transaction` is BEGIN/COMMIT. */
export function sqliteShardSql(db: SqliteD1): ShardSql {
  return {
    all: (sql, ...params) => db.prepare(sql).bind(...params).result<Record<string, unknown>>().results,
    run: (sql, ...params) => db.prepare(sql).bind(...params).result().meta.changes,
    transaction: (body) => db.transaction(body),
  };
}

/**
 * The file name of a shard: its organization id and shard name with every character outside
 * `A-Z a-z 0-9 _` written as `%XX` (UTF-8), joined by `.` — unique, and never a path.
 *
 * @example shardFileName('org_1', 's0') // 'org_1.s0.sqlite'
 */
export function shardFileName(orgId: string, name: string): string {
  return `${safe(orgId)}.${safe(name)}.sqlite`;
}

function safe(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The folder of a host's shard files: EDGE_EXPORT_SHARDS_DIR, or `<database file>.shards` beside it. */
export function shardsDir(source: Record<string, string | undefined>, dbPath: string): string {
  return source.EDGE_EXPORT_SHARDS_DIR || `${dbPath}.shards`;
}

/**
 * The shards of a host: `open(path)` opens (creating) one SQLite file; each file is opened once, on
 * the first call to its shard, and `close()` closes every opened one.
 *
 * @example const shards = new ShardFiles(dir, openFile); createHost(db, env, platform, { shards })
 */
export class ShardFiles implements ShardNamespace {
  private readonly opened = new Map<string, { file: ShardFile; store: ShardStore }>();

  constructor(
    private readonly dir: string,
    private readonly open: (path: string) => ShardFile,
  ) {}

  shard(orgId: string, name: string): ShardStore {
    const fileName = shardFileName(orgId, name);
    // Lazily: naming a shard opens nothing; its first call does.
    const store = () => {
      let entry = this.opened.get(fileName);
      if (!entry) {
        const file = this.open(`${this.dir}/${fileName}`);
        entry = { file, store: new SqlShardStore(sqliteShardSql(file.db)) };
        this.opened.set(fileName, entry);
      }
      return entry.store;
    };
    return {
      upsertProfiles: async (...args) => store().upsertProfiles(...args),
      insertMissingProfiles: async (...args) => store().insertMissingProfiles(...args),
      profiles: async (...args) => store().profiles(...args),
      split: async (...args) => store().split(...args),
      deleteBuckets: async (...args) => store().deleteBuckets(...args),
    };
  }

  /** Closes every opened shard file (the host is stopping). */
  close(): void {
    for (const { file } of this.opened.values()) file.close();
    this.opened.clear();
  }
}
