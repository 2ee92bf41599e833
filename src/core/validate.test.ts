import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { MAX_ECHO, quote, toConfigIssues, withoutEcho } from './validate.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('what errors echo of submitted values', () => {
  it('quotes strings up to MAX_ECHO characters, describes longer ones by their length', () => {
    expect(quote('xml')).toBe('"xml"');
    expect(quote('x'.repeat(MAX_ECHO))).toBe(`"${'x'.repeat(MAX_ECHO)}"`);
    expect(quote('x'.repeat(MAX_ECHO + 1))).toBe(`a ${MAX_ECHO + 1}-character string`);
    expect([quote(5), quote(null), quote([1]), quote({})]).toEqual(['5', 'null', 'a list', 'an object']);
  });

  it('valibot issues: a long received value and its copies in the message are replaced, nothing else', () => {
    const [regex] = toConfigIssues(v.safeParse(v.pipe(v.string(), v.regex(/^[a-z]+$/)), SECRET).issues!);
    expect(regex).toMatchObject({ received: 'a 40-character string' });
    expect(JSON.stringify(regex)).not.toContain('K7MDENG');
    const [picked] = toConfigIssues(v.safeParse(v.picklist(['csv', 'json']), SECRET).issues!, 'fileType');
    expect(picked!.message).toBe('Invalid type: Expected ("csv" | "json") but received a 40-character string');
    const [short] = toConfigIssues(v.safeParse(v.picklist(['csv', 'json']), 'xml').issues!);
    expect(short).toMatchObject({ received: '"xml"', message: 'Invalid type: Expected ("csv" | "json") but received "xml"' });
    // A received length never touches the message's own digits.
    const [length] = toConfigIssues(v.safeParse(v.pipe(v.string(), v.minLength(10, 'at least 10 characters')), '').issues!);
    expect(length).toMatchObject({ message: 'at least 10 characters', received: '0' });
  });

  it('an unknown key is shown only when short', () => {
    const schema = v.strictObject({ a: v.string() });
    const [long] = toConfigIssues(v.safeParse(schema, { a: 'x', [SECRET]: 1 }).issues!, 'auth');
    expect(long!.path).toBe('auth.<a 40-character key>');
    expect(JSON.stringify(long)).not.toContain('K7MDENG');
    const [short] = toConfigIssues(v.safeParse(schema, { a: 'x', colour: 1 }).issues!, 'auth');
    expect(short!.path).toBe('auth.colour');
  });

  it('withoutEcho filters issues made by hand the same way', () => {
    const issue = { path: 'fileType', message: `fileType: "${SECRET}" is not available`, received: `"${SECRET}"` };
    expect(withoutEcho(issue)).toEqual({
      path: 'fileType',
      message: 'fileType: a 40-character string is not available',
      received: 'a 40-character string',
    });
    const fine = { path: 'fileType', message: 'fileType: "xml" is not available', received: '"xml"' };
    expect(withoutEcho(fine)).toBe(fine);
  });
});
