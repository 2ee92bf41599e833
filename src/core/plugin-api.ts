/**
 * The public contracts a third-party plugin builds on, as the package `edge-export/plugin`
 * (package.json `exports`): a plugin package imports these types only, so it needs nothing of the
 * host at run time and can be published on its own (packages/edge-export-avro does).
 */
export type { Plugin } from './plugin.ts';
export type { Platform, PageCodecs, ZstdCompress } from './platform.ts';
export type { ConfigIssue } from './errors.ts';
export type {
  Column,
  ColumnType,
  CompressionStage,
  FormatContext,
  FormatStage,
  Row,
  RowBatch,
  RunContext,
  Schema,
  Stage,
} from './types.ts';
