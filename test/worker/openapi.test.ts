import { describe, expect, it } from 'vitest';
import { call, testEnv } from './helpers.ts';

describe('GET /v1/openapi.json', () => {
  it('serves an OpenAPI 3.1 document generated from the request schemas, without a token', async () => {
    const res = await call(testEnv(), 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const destination = res.body.components.schemas.DestinationCreate;
    expect(destination.required).toEqual(expect.arrayContaining(['name', 'bucket', 'auth']));
    expect(destination.properties.fileType.examples).toEqual(['csv', 'json', 'parquet']);
    expect(destination.properties.auth.properties.method.enum).toEqual(['accessKey', 'assumedRole']);
    expect(res.body.components.schemas.Schedule.properties.frequency.enum).toContain('hourly');
    expect(res.body.components.schemas.Profile.required).toEqual(['id']);
    expect(res.body.components.schemas.Dataflow.properties.skippedRateThreshold.maximum).toBe(1);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/destinations',
        '/dataflows/{id}/run',
        '/webhooks/{id}',
        '/profiles',
        '/datasets/{id}/records',
        '/audiences/{id}/members',
        '/destinations/{id}/test',
        '/destinations/{id}/policies',
      ]),
    );
  });
});
