import { ExportError } from '../errors.ts';

/**
 * An object replaced since the run listed it: its units would read part of one version and part of
 * another, so the run stops and says so.
 *
 * @example throw sourceChanged('s3://lake', 'crm/part-0.parquet')
 */
export function sourceChanged(where: string, key: string): ExportError {
  return new ExportError('SOURCE_CHANGED', `${where}/${key} was replaced since the run was planned: run the export again (it plans the snapshot afresh).`, {
    stage: 'source',
    details: { key, retryable: false },
  });
}
