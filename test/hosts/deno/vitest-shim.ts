/**
 * The part of vitest's API the core's unit tests use, mapped onto `Deno.test` so the very same test
 * files run under Deno (vitest.deno.json maps the `vitest` import here). `expect` is vitest's own
 * (`@vitest/expect` on chai), so assertions behave exactly as under Node.
 */
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  ChaiStyleAssertions,
  GLOBAL_EXPECT,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  chai,
  getState,
  setState,
} from '@vitest/expect';

declare const Deno: {
  test(options: {
    name: string;
    fn: () => Promise<void>;
    sanitizeOps: boolean;
    sanitizeResources: boolean;
    ignore?: boolean;
  }): void;
};

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

type Fn = () => unknown;
type Expect = ((value: unknown, message?: string) => unknown) & Record<string, unknown>;

/** vitest's `expect`: chai plus the Jest matchers, asymmetric matchers included. */
export const expect = ((value: unknown, message?: string) => {
  const state = getState(expect as never) as { assertionCalls: number };
  setState({ assertionCalls: state.assertionCalls + 1 }, expect as never);
  return chai.expect(value, message);
}) as unknown as Expect;
Object.assign(expect, chai.expect);
Object.assign(expect, (globalThis as Record<PropertyKey, unknown>)[ASYMMETRIC_MATCHERS_OBJECT]);
setState({ assertionCalls: 0, isExpectingAssertions: false, currentTestName: '' }, expect as never);
(globalThis as Record<PropertyKey, unknown>)[GLOBAL_EXPECT] = expect;
expect.getState = () => getState(expect as never);
expect.setState = (state: object) => setState(state as never, expect as never);
const chaiExtend = (chai.expect as unknown as { extend: (e: unknown, m: object) => void }).extend;
expect.extend = (matchers: object) => chaiExtend(expect, matchers);
expect.assert = chai.assert;

interface Suite {
  readonly name: string;
  readonly parent?: Suite;
  readonly beforeAll: Fn[];
  readonly afterAll: Fn[];
  readonly beforeEach: Fn[];
  readonly afterEach: Fn[];
  started?: Promise<void>;
}
const root: Suite = { name: '', beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
let current = root;

const chain = (suite: Suite): Suite[] => (suite.parent ? [...chain(suite.parent), suite] : [suite]);
const fullName = (suite: Suite, name: string) =>
  [...chain(suite).map((s) => s.name), name].filter(Boolean).join(' > ');

/** Runs a suite's beforeAll hooks once, before its first test (Deno runs a file's tests in order). */
function start(suite: Suite): Promise<void> {
  suite.started ??= (async () => {
    if (suite.parent) await start(suite.parent);
    for (const hook of suite.beforeAll) await hook();
  })();
  return suite.started;
}

function register(name: string, fn: Fn | undefined, ignore = false): void {
  const suite = current;
  const suites = chain(suite);
  Deno.test({
    name: fullName(suite, name),
    ignore: ignore || fn === undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await start(suite);
      setState({ assertionCalls: 0, currentTestName: fullName(suite, name) }, expect as never);
      for (const s of suites) for (const hook of s.beforeEach) await hook();
      try {
        await fn?.();
      } finally {
        for (const s of [...suites].reverse()) for (const hook of s.afterEach) await hook();
      }
    },
  });
}

/** `%s %d %i %j %o %#` and `$name` in test.each titles, like vitest. */
function title(template: string, args: unknown[], index: number): string {
  let i = 0;
  const text = template.replace(/%[sdifjoO#%]/g, (token) => {
    if (token === '%%') return '%';
    if (token === '%#') return String(index);
    const value = args[i++];
    return token === '%j' || token === '%o' || token === '%O' ? JSON.stringify(value) : String(value);
  });
  const first = args[0];
  return typeof first === 'object' && first !== null && !Array.isArray(first)
    ? text.replace(/\$([\w.]+)/g, (_, key: string) => String((first as Record<string, unknown>)[key]))
    : text;
}

function each(cases: readonly unknown[]) {
  return (name: string, fn: (...args: unknown[]) => unknown) => {
    cases.forEach((entry, index) => {
      const args = Array.isArray(entry) ? entry : [entry];
      register(title(name, args, index), () => fn(...args));
    });
  };
}

type TestFn = ((name: string, fn?: Fn, timeout?: number) => void) & {
  each: typeof each;
  skip: (name: string, fn?: Fn) => void;
  todo: (name: string) => void;
  only: (name: string, fn?: Fn) => void;
  concurrent: (name: string, fn?: Fn) => void;
};

/** vitest's `it`/`test`: one Deno test per case, named `suite > case`. */
export const it = Object.assign((name: string, fn?: Fn) => register(name, fn), {
  each,
  skip: (name: string, fn?: Fn) => register(name, fn, true),
  todo: (name: string) => register(name, undefined, true),
  only: (name: string, fn?: Fn) => register(name, fn),
  concurrent: (name: string, fn?: Fn) => register(name, fn),
}) as TestFn;
export const test = it;

/** vitest's `describe`: collects its tests and hooks under a name. */
export const describe = Object.assign(
  (name: string, body: () => void) => {
    const parent = current;
    current = { name, parent, beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
    const suite = current;
    try {
      body();
    } finally {
      current = parent;
    }
    // afterAll runs as the suite's last test, after every test registered in it.
    if (suite.afterAll.length > 0)
      register(`${name} (afterAll)`, async () => {
        for (const hook of suite.afterAll) await hook();
      });
  },
  {
    each: (cases: readonly unknown[]) => (name: string, body: (...args: unknown[]) => void) =>
      cases.forEach((entry, index) => {
        const args = Array.isArray(entry) ? entry : [entry];
        describe(title(name, args, index), () => body(...args));
      }),
  },
);

export const beforeAll = (fn: Fn) => void current.beforeAll.push(fn);
export const afterAll = (fn: Fn) => {
  if (current === root) throw new Error('the Deno shim supports afterAll inside describe only');
  current.afterAll.push(fn);
};
export const beforeEach = (fn: Fn) => void current.beforeEach.push(fn);
export const afterEach = (fn: Fn) => void current.afterEach.push(fn);
