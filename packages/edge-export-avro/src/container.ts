/**
 * Avro Object Container Files (Avro 1.11, "Object Container Files"): the header (magic `Obj\x01`,
 * the `avro.schema` and `avro.codec` metadata, a 16-byte sync marker), then blocks of rows, each
 * `count, size, compressed rows, sync`. Rows are encoded into one block buffer; a block is compressed
 * and sent on once it holds `blockRows` rows or `blockBytes` bytes, so memory stays at about one
 * block whatever the file's size.
 */
import type { RowBatch, Schema } from 'edge-export/plugin';
import { AvroWriter } from './binary.ts';
import type { BlockCodec } from './codecs.ts';
import { rowCodec } from './schema.ts';

const MAGIC = [0x4f, 0x62, 0x6a, 0x01];

export interface ContainerOptions {
  readonly codec: BlockCodec;
  /** Rows per block at most. */
  readonly blockRows: number;
  /** A block is closed once its encoded (uncompressed) rows reach this many bytes. */
  readonly blockBytes: number;
  readonly recordName: string;
  readonly namespace?: string;
  /** The file's sync marker (16 bytes); random when absent. */
  readonly sync?: Uint8Array;
}

/**
 * A stream from batches of rows (the export's columns) to the bytes of one container file.
 *
 * @example rows.pipeThrough(containerStream(columns, { codec: blockCodec('deflate'), blockRows: 10_000, blockBytes: 1 << 20, recordName: 'Row' }))
 */
export function containerStream(
  columns: Schema,
  options: ContainerOptions,
): TransformStream<RowBatch, Uint8Array> {
  const codec = rowCodec(columns, {
    name: options.recordName,
    ...(options.namespace && { namespace: options.namespace }),
  });
  const sync = options.sync ?? crypto.getRandomValues(new Uint8Array(16));
  if (sync.byteLength !== 16) throw new RangeError('format/avro: a sync marker has 16 bytes');
  const block = new AvroWriter();
  const frame = new AvroWriter(32);
  let rows = 0;

  const emit = (controller: TransformStreamDefaultController<Uint8Array>) => {
    const data = options.codec.compress(block.take());
    frame.long(rows);
    frame.long(data.byteLength);
    controller.enqueue(frame.take());
    controller.enqueue(data);
    controller.enqueue(sync.slice());
    rows = 0;
  };

  return new TransformStream<RowBatch, Uint8Array>({
    async start(controller) {
      await options.codec.ready?.();
      controller.enqueue(header(JSON.stringify(codec.schema), options.codec.name, sync));
    },
    transform(batch, controller) {
      for (const row of batch) {
        codec.write(block, row);
        rows++;
        if (rows >= options.blockRows || block.pos >= options.blockBytes) emit(controller);
      }
    },
    flush(controller) {
      if (rows > 0) emit(controller);
    },
  });
}

/** The file header: magic, metadata map (`avro.schema`, `avro.codec`), sync marker. */
export function header(schema: string, codec: string, sync: Uint8Array): Uint8Array {
  const w = new AvroWriter(schema.length * 3 + 64);
  for (const b of MAGIC) w.byte(b);
  const encoder = new TextEncoder();
  const metadata: [string, string][] = [
    ['avro.schema', schema],
    ['avro.codec', codec],
  ];
  w.long(metadata.length);
  for (const [key, value] of metadata) {
    w.string(key);
    w.bytes(encoder.encode(value));
  }
  w.long(0);
  w.reserve(16);
  w.buf.set(sync, w.pos);
  w.pos += 16;
  return w.take();
}
