/** The built-in plugins, registered by every host. Third parties add theirs via the plugin manifest. */
import type { Plugin } from '../core/plugin.ts';
import { plugin as accessKey } from './auth/accessKey/index.ts';
import { plugin as assumedRole } from './auth/assumedRole/index.ts';
import { plugin as gzip } from './compression/gzip/index.ts';
import { plugin as none } from './compression/none/index.ts';
import { plugin as zstd } from './compression/zstd/index.ts';
import { plugin as pgp } from './encryption/pgp/index.ts';
import { plugin as csv } from './format/csv/index.ts';
import { plugin as json } from './format/json/index.ts';
import { plugin as parquet } from './format/parquet/index.ts';
import { plugin as jsonManifest } from './manifest/json/index.ts';
import { plugin as date } from './naming/date/index.ts';
import { plugin as segment } from './naming/segment/index.ts';
import { plugin as discard } from './sink/discard/index.ts';
import { plugin as s3 } from './sink/s3/index.ts';
import { plugin as csvSource } from './source/csv/index.ts';
import { plugin as ndjsonSource } from './source/ndjson/index.ts';
import { plugin as parquetSource } from './source/parquet/index.ts';

export const builtinPlugins: readonly Plugin[] = Object.freeze([
  csvSource,
  ndjsonSource,
  parquetSource,
  csv,
  json,
  parquet,
  none,
  gzip,
  zstd,
  pgp,
  segment,
  date,
  jsonManifest,
  accessKey,
  assumedRole,
  s3,
  discard,
] as Plugin[]);
