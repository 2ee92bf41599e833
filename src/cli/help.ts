/** `--help` texts: every command and option, and the config file's fields. */

const CONFIG = `Config file (JSON):
  plugins             plugin manifest {modules?, plugins:[{use, options?}]} or a path to one
  destination         {id, name, organization?, sandbox?}
  output.folderPath   key prefix; macros %SEGMENT_NAME% %SEGMENT_ID% %DATASET_ID% %RUN_ID%
                      %DESTINATION_ID% %YYYY% %MM% %DD% %HH% %DATE% %DT%  (default "")
  output.fileName     {audienceName?, dateTime?: datetime|unix|none, customText?,
                       destinationId?, organization?, sandbox?}
                      or {template}: e.g. {destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id}
                      (tokens: docs/NAMING.md)
  output.partitionBy  {columns: [1 or 2 output columns], maxPartitions? (default 1000)}:
                      files under Hive-style column=value/ folders
  output.split        {maxRows? (default 5000000), maxBytes?}
  output.manifest     write manifest-<destinationId>-<runId>.json (default true)
  source              {path, use?: source/ndjson|source/csv|source/parquet, options?,
                       format?, hivePartitioning?, s3?, schema?, idColumn?, updatedAtColumn?}
    source.path       a local file; a local folder (every file under it: a snapshot);
                      s3://bucket/key (one object); s3://bucket/prefix/ (every object under it)
    source.format     parquet | ndjson | csv — required for a prefix or a folder, else from
                      the extension; files of other formats under a prefix are skipped
    source.hivePartitioning  true: name=value folders under the prefix become columns
    source.schema     a snapshot's columns [{name, type}]: Parquet footers must agree,
                      NDJSON and CSV are read (typed) as them
    source.idColumn, source.updatedAtColumn  the profile id and last-change columns
                      (default id, updatedAt)
    source.s3         {region? (default us-east-1), endpoint?, forcePathStyle?,
                       auth: {method: accessKey, accessKeyId, secretAccessKey, sessionToken?}
                           | {method: assumedRole, roleArn, externalId} (the platform
                             identity from EDGE_EXPORT_AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY)}
                      (needs s3:ListBucket for a prefix and s3:GetObject). A snapshot is read
                      unit by unit; Parquet fetches only the columns the rule, mapping and dedup
                      name, by byte ranges. The summary's "source" says the bytes fetched.
  audience            {id, name, rule?}  rule in the segment language (docs/RULES.md)
  mapping             {fields:[{source, target?, type?, mandatory?}], dedup?} — source rows are
                      profiles; each audience member becomes one mapped row
  mode                full (default) | incremental | insert-only | diff (all three need --state;
                      diff writes <name>_added, _changed and _removed files)
  dataset             {id}
  schema              [{name, type, nullable?}] output columns (default: from the source)
  runId, scheduledTime  fix the run id and time (re-running a run replaces its files)
`;

export const HELP = {
  main: `edge-export — export audiences and datasets as CSV, JSON or Parquet into S3

Usage: edge-export <command> [options]

Commands:
  export            run one export from a JSON config and print a JSON summary
  validate          check a config and its plugin manifest without exporting
  test-connection   learn every S3 permission an export needs, leaving nothing behind
  policy            print the least-privilege IAM permission policy, a lifecycle backstop
                    (and the role trust policy)

Run "edge-export <command> --help" for a command's options; "edge-export --version" prints the version.
Exit codes: 0 success, 1 export failed, 2 bad usage or invalid configuration, 130 interrupted
(Ctrl-C: the export stops and removes the files it had written).
`,
  export: `Usage: edge-export export --config <file> [--dry-run]

Runs one export and prints a JSON summary: files (key, size, rows, sha256), rows, bytes,
manifest and duration. A failed export prints {runId, failed, error, leftoverUploads}: a multipart
upload it could not abort (the abort denied) is named there and on stderr, with its key, upload id,
bytes stored and the aws s3api abort-multipart-upload command that removes it.

Options:
  -c, --config <file>   export config (JSON), see below
      --dry-run         run the whole pipeline but store nothing: keys, rows and sizes only
      --state <file>    incremental state (read before, written after a successful run)
      --sort-budget <bytes>  heap a sort (deduplication, partitions, a diff's changed and
                        removed rows) holds before it writes a sorted run to a temporary
                        folder under $TMPDIR, removed when the export ends (default 64MiB;
                        also EXPORT_SORT_BUDGET; bytes or KiB/MiB/GiB, e.g. 16MiB)
      --threads <n>     worker threads that read and encode a local NDJSON or CSV source
                        exported as CSV or NDJSON (default: one per core but one; 0 = this
                        thread only); the files are byte for byte the same either way
      --no-progress     no progress on stderr (default: a live line on a terminal,
                        a plain line every 10 s and per finished file otherwise)
  -h, --help            this help

Environment:
  EDGE_EXPORT_LOG=debug  structured logs on stderr
  EXPORT_SORT_BUDGET     the sort budget when --sort-budget is not given
  EXPORT_THREADS         the worker threads when --threads is not given
  EXPORT_PIECE_BYTES     input bytes a worker thread is given at a time (default 1048576)
  TMPDIR                 where the sorts' temporary folder goes (default: the OS temp folder)

${CONFIG}`,
  validate: `Usage: edge-export validate --config <file>

Validates the config and its plugin manifest, reporting every problem with its path.

Options:
  -c, --config <file>   export config (JSON)
  -h, --help            this help

${CONFIG}`,
  'test-connection': `Usage: edge-export test-connection --config <file>

Learns each permission an export needs, leaving nothing in the bucket: s3:ListBucket,
s3:GetBucketLocation, s3:ListBucketMultipartUploads, s3:PutObject, s3:GetObject, s3:DeleteObject,
s3:ListMultipartUploadParts, s3:AbortMultipartUpload. Deletes, aborts and part listings are proven on a
missing key and a made-up upload id; a probe upload or object is only made once its removal is proven.
Prints {ok, results, warnings}: each result has a status (ok, missing = denied, unsupported = the
store does not implement it, error, untested) and the IAM action and resource to grant. Only
s3:PutObject is required; any other shortfall is a warning (also on stderr) saying what breaks
without it. Exit 0 when ok, 1 when a required permission is not ok.

Options:
  -c, --config <file>   export config (JSON) with a sink/s3 plugin
  -h, --help            this help
`,
  policy: `Usage: edge-export policy --config <file> [--principal <arn>]

Prints the least-privilege permission policy for the config's sink/s3 destination (bucket and
folder; tagging, ACL and KMS permissions when the sink uses them), a lifecycle rule the bucket owner
can add as a backstop (AbortIncompleteMultipartUpload after 1 day under the folder prefix) with how to
add it, and, with an auth/assumedRole plugin, the role trust policy allowing the platform principal
with the destination's external id.

Options:
  -c, --config <file>   export config (JSON) with a sink/s3 plugin
      --principal <arn> platform principal allowed to assume the role
                        (default: $EDGE_EXPORT_PLATFORM_PRINCIPAL_ARN)
  -h, --help            this help
`,
} as const;
