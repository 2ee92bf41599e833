import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/worker/app.ts';
import { openApiDocument } from '../../src/worker/openapi.ts';
import { call, testEnv } from './helpers.ts';

describe('GET /v1/openapi.json', () => {
  it('serves, without a token, the document read from the routes in workerd (validity: test/api-contract.test.ts)', async () => {
    const res = await call(testEnv(), 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument(createApp().routes))));
    expect(res.body.paths['/dataflows/{id}/run'].post.operationId).toBe('exportNow');
    expect(res.body.components.schemas.DestinationInput.properties.fileType.examples).toEqual(['csv', 'json', 'parquet']);
  });
});
