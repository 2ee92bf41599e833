/** Pushes `count` copies of `chunk` through a byte pair and counts what comes out (micro-benchmarks). */
export async function pump(
  pair: ReadableWritablePair<Uint8Array, Uint8Array>,
  chunk: Uint8Array,
  count: number,
): Promise<{ seconds: number; out: number }> {
  const started = performance.now();
  let out = 0;
  const reading = (async () => {
    const reader = pair.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out += value.byteLength;
    }
  })();
  const writer = pair.writable.getWriter();
  for (let i = 0; i < count; i++) await writer.write(chunk.slice());
  await writer.close();
  await reading;
  return { seconds: (performance.now() - started) / 1000, out };
}
