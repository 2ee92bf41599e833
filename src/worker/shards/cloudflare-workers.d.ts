/**
 * The part of workerd's `cloudflare:workers` module the `ProfileShard` Durable Object uses, typed
 * structurally (the project type-checks without the global workers-types, see env.ts).
 */
declare module 'cloudflare:workers' {
  /** A Durable Object's SQLite storage: `exec` runs one statement with its bindings. */
  export interface SqlStorage {
    exec(query: string, ...bindings: (string | number | null | ArrayBuffer)[]): {
      toArray(): Record<string, unknown>[];
      readonly rowsWritten: number;
    };
  }
  export interface DurableObjectState {
    readonly storage: {
      readonly sql: SqlStorage;
      /** Runs `closure` in one transaction: rolled back when it throws. */
      transactionSync<T>(closure: () => T): T;
    };
  }
  /** The base class of a Durable Object whose public methods are RPC methods. */
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: DurableObjectState;
    protected readonly env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }
}
