import { describe, expect, it } from 'vitest';
import { encodeKey, encodeQuery, resourceArn } from './keys.ts';
import { PartReader } from './parts.ts';
import { xmlBlocks, xmlEscape, xmlValue } from '../../../core/xml.ts';

describe('keys, XML and parts', () => {
  it('encodes every key segment per RFC 3986, keeping slashes', () => {
    expect(encodeKey("a b/c+d/(e)'f'!g*h~i-j_k.l/ü€")).toBe(
      'a%20b/c%2Bd/%28e%29%27f%27%21g%2Ah~i-j_k.l/%C3%BC%E2%82%AC',
    );
    expect(encodeKey('100%/x#?.csv')).toBe('100%25/x%23%3F.csv');
  });

  it('builds sorted canonical queries', () => {
    expect(encodeQuery({ uploadId: 'a+b/c=', partNumber: '2' })).toBe('?partNumber=2&uploadId=a%2Bb%2Fc%3D');
    expect(encodeQuery({ uploads: '' })).toBe('?uploads=');
    expect(encodeQuery({})).toBe('');
  });

  it('names resources the way IAM does', () => {
    expect(resourceArn('b', 'eu-west-1', 'k/x.csv')).toBe('arn:aws:s3:::b/k/x.csv');
    expect(resourceArn('b', 'cn-north-1')).toBe('arn:aws-cn:s3:::b');
  });

  it('reads and writes the XML S3 speaks', () => {
    const xml =
      '<R><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part><Part><PartNumber>2</PartNumber></Part><Parts>x</Parts></R>';
    expect(xmlBlocks(xml, 'Part')).toHaveLength(2);
    expect(xmlValue(xml, 'ETag')).toBe('"a"');
    expect(xmlEscape('"a"&<')).toBe('&quot;a&quot;&amp;&lt;');
  });

  it('cuts a stream into exact parts across chunk boundaries', async () => {
    const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([4]), new Uint8Array([5, 6, 7, 8, 9])];
    const stream = new ReadableStream<Uint8Array>({
      pull: (c) => (chunks.length ? c.enqueue(chunks.shift()) : c.close()),
    });
    const reader = new PartReader(stream, 4);
    const parts: number[][] = [];
    for (let p = await reader.next(); p; p = await reader.next()) parts.push([...p]);
    expect(parts).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9]]);
  });

  it('tells whether bytes are left by reading one chunk ahead, skipping empty chunks', async () => {
    const chunks = [new Uint8Array([1, 2, 3, 4]), new Uint8Array(0), new Uint8Array([5]), new Uint8Array(0)];
    const stream = new ReadableStream<Uint8Array>({
      pull: (c) => (chunks.length ? c.enqueue(chunks.shift()) : c.close()),
    });
    const reader = new PartReader(stream, 4);
    expect([...(await reader.next())!]).toEqual([1, 2, 3, 4]);
    expect(await reader.atEnd()).toBe(false);
    expect(await reader.atEnd()).toBe(false); // asking again reads nothing more
    expect([...(await reader.next())!]).toEqual([5]);
    expect(await reader.atEnd()).toBe(true);
    expect(await reader.next()).toBeNull();
  });

  it('reuses the buffers of released parts, never of parts still held, and keeps at most `keep`', async () => {
    const bytes = Array.from({ length: 40 }, (_, i) => i);
    const stream = new ReadableStream<Uint8Array>({
      pull: (c) => (bytes.length ? c.enqueue(new Uint8Array(bytes.splice(0, 3))) : c.close()),
    });
    const reader = new PartReader(stream, 4, 2);
    const a = (await reader.next())!;
    const b = (await reader.next())!;
    reader.release(a);
    const c = (await reader.next())!;
    expect(c.buffer).toBe(a.buffer);
    expect([...b, ...c]).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    const d = (await reader.next())!;
    expect(d.buffer === b.buffer || d.buffer === c.buffer).toBe(false);
    for (const part of [b, c, d]) reader.release(part);
    const seen = new Set<ArrayBufferLike>();
    const rest: number[] = [];
    for (let p = await reader.next(); p; p = await reader.next()) {
      seen.add(p.buffer);
      rest.push(...p);
      reader.release(p);
    }
    expect(rest).toEqual(Array.from({ length: 24 }, (_, i) => i + 16));
    expect(seen.size).toBe(1);
  });
});
