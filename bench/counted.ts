/** A Node stream passed through unchanged while its bytes are counted (the benches' uploads report their size). */
import { type Readable, Transform } from 'node:stream';

export function counted(body: Readable): { stream: Readable; bytes: () => number } {
  let bytes = 0;
  const stream = body.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.byteLength;
        done(null, chunk);
      },
    }),
  );
  return { stream, bytes: () => bytes };
}
