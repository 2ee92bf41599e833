/** Export states as a host keeps them: committed ones, and a run's staged ones promoted together. */
import type { ExportState } from '../../src/core/data/store.ts';
import type { ExportStates } from '../../src/service/subjects.ts';

export function memoryStates(committed = new Map<string, ExportState>()) {
  const staged = new Map<string, ExportState>();
  const states: ExportStates = {
    get: async (id) => committed.get(id),
    stage: async (id, state) => {
      staged.set(id, state);
    },
    promote: async (ids) => {
      for (const id of ids) if (staged.has(id)) committed.set(id, staged.get(id)!);
      staged.clear();
    },
    discard: async () => staged.clear(),
  };
  return { states, committed, staged };
}
