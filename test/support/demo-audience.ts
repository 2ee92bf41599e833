import { readFile } from 'node:fs/promises';

/**
 * The emails of the demo audience (scripts/demo.ts), evaluated here in plain JavaScript: EU country
 * and (VIP or spend above 1500), over fixtures/demo/profiles.ndjson.
 */
export async function demoAudienceEmails(): Promise<Set<string>> {
  const text = await readFile('fixtures/demo/profiles.ndjson', 'utf8');
  const emails = new Set<string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const p = JSON.parse(line);
    const a = p.attributes;
    if (['FR', 'DE', 'ES', 'IT', 'GB'].includes(a.country) && (a.vip === true || a.totalSpend > 1500))
      emails.add(p.identities.email[0]);
  }
  return emails;
}
