/**
 * `npm run bench`: the format × compression matrix (bench/run.ts), or another bench named first —
 * `npm run bench -- snapshot --rows 10000000` runs bench/snapshot.ts with the arguments after its
 * name, as `node bin/run-ts.js bench/snapshot.ts --rows 10000000` does.
 */
const BENCHES = ['snapshot', 'audiences', 'workerd', 'fanout', 'cli-spill', 's3-upload', 'sharded', 'from-files'] as const;

const chosen = process.argv[2];
if (chosen && (BENCHES as readonly string[]).includes(chosen)) {
  process.argv.splice(2, 1);
  await import(`./${chosen}.ts`);
} else if (chosen && !chosen.startsWith('-')) {
  throw new Error(`npm run bench: no bench "${chosen}"; expected one of ${BENCHES.join(', ')}, or the matrix's options (--rows, --only…)`);
} else await import('./run.ts');

export {};
