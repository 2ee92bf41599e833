/** Runs the real CLI (`main`) in-process with captured stdout and stderr: `{code, out, err}`. */
import { main } from '../../src/cli/main.ts';

export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => ({
    write(s: string) {
      append(s);
      return true;
    },
  });
  const io = { out: sink((s) => (out += s)), err: sink((s) => (err += s)) } as unknown as Parameters<typeof main>[1];
  const code = await main(argv, io);
  return { code, out, err };
}
