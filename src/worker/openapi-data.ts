/** OpenAPI paths of data ingestion and destination checks (split from openapi.ts to keep it short). */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});

/** A batch body: NDJSON (one record per line) or CSV with a header row. */
function batchBody(schema: string, csv: string) {
  return {
    required: true,
    content: {
      'application/x-ndjson': {
        schema: { type: 'string', description: `One ${schema} JSON object per line` },
      },
      'text/csv': { schema: { type: 'string', description: csv } },
    },
  };
}

const batchErrors = {
  '400': error(
    'Invalid batch: nothing stored; details.errors lists each bad record with line, path, message',
  ),
  '401': error('Missing or invalid token'),
  '404': error('Not found in this organization'),
};

/** The paths, keyed like openApiDocument().paths. */
export function dataPaths(): Record<string, unknown> {
  return {
    '/profiles': {
      post: {
        summary: 'Upsert a batch of profiles (at most 10,000), all-or-nothing',
        requestBody: batchBody(
          'Profile',
          'Columns: id, updatedAt, identities.<namespace> (values separated by |), attributes.<path>[:string|number|boolean|json]',
        ),
        responses: { '200': { description: '{stored}' }, ...batchErrors },
      },
    },
    '/datasets': {
      get: { summary: 'List datasets', responses: { '200': { description: '{items}' } } },
      post: {
        summary: 'Create a dataset with its column schema',
        requestBody: { content: { 'application/json': { schema: ref('Dataset') } } },
        responses: { '201': { description: 'Created' }, '409': error('The id is taken') },
      },
    },
    '/datasets/{id}': {
      get: {
        summary: 'Read a dataset',
        parameters: idParam,
        responses: { '200': { description: 'The dataset' }, ...batchErrors },
      },
    },
    '/datasets/{id}/records': {
      post: {
        summary: "Upsert a batch of records, checked against the dataset's schema",
        parameters: idParam,
        requestBody: batchBody(
          'DatasetRecord',
          'Columns: id, updatedAt, then the dataset columns (empty = null)',
        ),
        responses: { '200': { description: '{stored}' }, ...batchErrors },
      },
    },
    '/audiences/{id}/members': {
      post: {
        summary: 'Replace the members of an upload audience (CSV namespace,value[,column…]), all-or-nothing',
        parameters: idParam,
        requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
        responses: {
          '200': { description: '{imported, rows, evaluationId}: the upload is an evaluation of the audience' },
          ...batchErrors,
          '409': error('Not an upload audience'),
        },
      },
    },
    '/audiences/{id}/preview': {
      post: {
        summary:
          'Audience size before activation: members now, and how many a draft mapping would skip (mandatory field missing, invalid value, no dedup key)',
        parameters: idParam,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { mapping: { type: 'object', description: 'A dataflow mapping, as in Dataflow.mapping' } },
                additionalProperties: false,
              },
            },
          },
        },
        responses: {
          '200': {
            description:
              '{audienceId, profiles, members, skipped, skippedBy: {"missing:<field>": n}, complete, sample?: {profiles, members, skipped}}: past 100,000 profiles the counts are scaled from the first 100,000 (complete: false)',
          },
          ...batchErrors,
        },
      },
    },
    '/audiences/{id}/evaluate': {
      post: {
        summary: 'Record an evaluation of the audience: "afterEvaluation" dataflows run once at the next cron tick',
        parameters: idParam,
        responses: { '202': { description: '{evaluationId, audienceId, evaluatedAt}' }, ...batchErrors },
      },
    },
    '/destinations/{id}/test': {
      post: {
        summary:
          'Test connection: learn every S3 permission an export needs, creating nothing it cannot remove; ok when every required one is',
        parameters: idParam,
        responses: {
          '200': {
            description:
              '{ok, testedAt, results: [{action, resource, ok, status: ok|missing|unsupported|error|untested, required, impact?, message?}], warnings: [string]}',
          },
          ...batchErrors,
        },
      },
    },
    '/destinations/{id}/policies': {
      get: {
        summary: 'Least-privilege IAM permission policy, and the trust policy with the external id for roles',
        parameters: idParam,
        responses: {
          '200': { description: '{permissionPolicy, lifecycleConfiguration, lifecycleNote, trustPolicy?, note?, externalId?}' },
          ...batchErrors,
        },
      },
    },
  };
}
