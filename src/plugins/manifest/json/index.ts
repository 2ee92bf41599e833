import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { ManifestStage } from '../../../core/types.ts';

/**
 * The run manifest `manifest-<destinationId>-<runId>.json`: the reference's `flowRunId`,
 * `scheduledTime` and `exportResults[] {sinkPath, name, size}`, plus rows and SHA-256 per file
 * (and, in a diff export, its `kind`: added, changed or removed).
 */
export function jsonManifest(): ManifestStage {
  return {
    kind: 'manifest',
    name: 'json',
    fileName: (ctx) => `manifest-${ctx.destination.id}-${ctx.runId}.json`,
    render(ctx, files) {
      const manifest = {
        flowRunId: ctx.runId,
        scheduledTime: ctx.scheduledTime.toISOString(),
        exportResults: files.map((f) => ({
          sinkPath: f.sinkPath,
          name: f.name,
          size: f.size,
          rows: f.rows,
          sha256: f.sha256,
          ...(f.partition && { partition: f.partition }),
          ...(f.kind && { kind: f.kind }),
        })),
        totals: {
          files: files.length,
          rows: files.reduce((n, f) => n + f.rows, 0),
          size: files.reduce((n, f) => n + f.size, 0),
        },
      };
      return {
        body: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
        contentType: 'application/json',
      };
    },
  };
}

export const plugin = definePlugin({
  name: 'manifest/json',
  description: 'Writes manifest-<destinationId>-<runId>.json after every file of the run',
  options: v.optional(v.strictObject({}), {}),
  create: () => jsonManifest(),
});
