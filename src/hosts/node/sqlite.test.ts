import { describe, expect, it } from 'vitest';
import { loadBetterSqlite, MISSING_SQLITE } from './sqlite.ts';

describe('loadBetterSqlite', () => {
  it('loads the installed module', () => {
    expect(typeof loadBetterSqlite()).toBe('function');
  });

  it('turns a missing module into one line saying what to do', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(() => loadBetterSqlite(missing)).toThrow(MISSING_SQLITE);
    expect(MISSING_SQLITE).not.toContain('\n');
    expect(MISSING_SQLITE).toMatch(/npm start/);
  });

  it('turns a missing native build into the same line', () => {
    const unbuilt = () => {
      throw new Error('Could not locate the bindings file. Tried: build/better_sqlite3.node');
    };
    expect(() => loadBetterSqlite(unbuilt)).toThrow(MISSING_SQLITE);
  });

  it('lets any other failure through unchanged', () => {
    const broken = () => {
      throw new Error('NODE_MODULE_VERSION mismatch');
    };
    expect(() => loadBetterSqlite(broken)).toThrow('NODE_MODULE_VERSION mismatch');
  });
});
