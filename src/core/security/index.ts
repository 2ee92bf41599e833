/** Security primitives shared by every host: webhooks, sealed secrets, masking, tokens, SSRF checks. */
export * from './failure.ts';
export * from './secrets.ts';
export * from './ssrf.ts';
export * from './tokens.ts';
export * from './webhook.ts';
