/**
 * Types of the /v1 API, generated from /v1/openapi.json by openapi-typescript: do not edit; run
 * `npm run api:types` after changing a route's declaration or a schema it names.
 */
export interface paths {
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI 3.1 document, generated from the routes */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/webhooks/{dataflowId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A signed delivery: export the dataflow now
         * @description Authenticated by the dataflow's webhook secret (securitySchemes.webhookSignature), not by a token. Unknown dataflows and bad signatures get the same 401. The body (at most 64 KiB) is only signed, never read for content.
         */
        post: operations["triggerWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/organizations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create an organization and its first API token (with `shards`, its profiles are kept in that many shards) */
        post: operations["createOrganization"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/organizations/{id}/shards": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An organization's shard layout (null: its profiles are in D1, the default) */
        get: operations["getOrganizationShards"];
        /**
         * Set an organization's shard count: N equal shards before its first profile, afterwards a growth to N shards online (resharding)
         * @description An organization with profiles (in shards, or in D1: the single-database layout) grows by resharding (docs/SCALE.md): the answer shows the layout with its `next` owners and `resharding.state` "copying"; the queue copies the moved buckets, flips the layout (generation + 1) and cleans up the old owners. GET shows its progress.
         */
        put: operations["setOrganizationShards"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/destinations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List destinations */
        get: operations["listDestinations"];
        put?: never;
        /** Create a destination (checked as an export would run it; secrets sealed) */
        post: operations["createDestination"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/destinations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a destination */
        get: operations["getDestination"];
        /** Replace a destination (masked or omitted secrets keep their stored value) */
        put: operations["updateDestination"];
        post?: never;
        /** Delete a destination no dataflow uses */
        delete: operations["deleteDestination"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/destinations/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Test the connection: probe every S3 permission an export needs, creating nothing it cannot remove */
        post: operations["testDestination"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/destinations/{id}/policies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The least-privilege IAM permission policy, and for roles the trust policy with the external id */
        get: operations["getDestinationPolicies"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/sources": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List snapshot sources */
        get: operations["listSources"];
        put?: never;
        /** Register a snapshot source (checked as a run would open it; secrets sealed) */
        post: operations["createSource"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/sources/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a snapshot source */
        get: operations["getSource"];
        /** Replace a snapshot source (omitted secrets keep their stored value) */
        put: operations["updateSource"];
        post?: never;
        /** Delete a snapshot source no audience or dataset reads */
        delete: operations["deleteSource"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/sources/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Test the source: list its files and read one file’s footer (Parquet) or first bytes, as a run would */
        post: operations["testSource"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dataflows": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List dataflows */
        get: operations["listDataflows"];
        put?: never;
        /** Create a dataflow: audiences or a dataset, to a destination, on a schedule or on demand */
        post: operations["createDataflow"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dataflows/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a dataflow */
        get: operations["getDataflow"];
        /** Replace a dataflow (alertSecret omitted keeps it, null clears it) */
        put: operations["updateDataflow"];
        post?: never;
        /** Delete a dataflow */
        delete: operations["deleteDataflow"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dataflows/{id}/run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Export now: enqueue a run
         * @description A dataflow runs one run at a time: a new run waits while another is in flight. Without an Idempotency-Key, a call made while one of the dataflow's manual runs is still waiting to start answers with that run.
         */
        post: operations["exportNow"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/audiences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List audiences */
        get: operations["listAudiences"];
        put?: never;
        /** Create a rule audience (its rule is parsed first) or an upload audience */
        post: operations["createAudience"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/audiences/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read an audience (upload audiences: with their member count) */
        get: operations["getAudience"];
        /** Replace an audience */
        put: operations["updateAudience"];
        post?: never;
        /** Delete an audience */
        delete: operations["deleteAudience"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/audiences/{id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replace the members of an upload audience, all-or-nothing */
        post: operations["uploadAudienceMembers"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/audiences/{id}/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Audience size before activation: members now, and how many a draft mapping would skip (mandatory field missing, invalid value, no dedup key) */
        post: operations["previewAudience"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/audiences/{id}/evaluate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Record an evaluation of the audience: "afterEvaluation" dataflows run once at the next cron tick */
        post: operations["evaluateAudience"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/profiles": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upsert a batch of profiles (at most 10,000), all-or-nothing
         * @description A sharded organization's batch is written to each of its shards at once, all-or-nothing per shard (docs/SCALE.md).
         */
        post: operations["upsertProfiles"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/datasets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List datasets */
        get: operations["listDatasets"];
        put?: never;
        /** Create a dataset with its column schema */
        post: operations["createDataset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/datasets/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a dataset */
        get: operations["getDataset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/datasets/{id}/records": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Upsert a batch of records, checked against the dataset's schema, all-or-nothing */
        post: operations["upsertDatasetRecords"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List runs, newest first */
        get: operations["listRuns"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/runs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a run: status, rows, skipped rows by reason, files, bytes, duration, error */
        get: operations["getRun"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the organization's live tokens (never their secrets) */
        get: operations["listTokens"];
        put?: never;
        /** Issue a named token with scopes the caller holds; its secret is shown in this answer only */
        post: operations["createToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tokens/current": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The calling token: its id, name and scopes (any valid token may ask) */
        get: operations["getCurrentToken"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tokens/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replace a token's secret: the old one is refused from now on; the new one is shown in this answer only */
        post: operations["rotateToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke a token: it is refused from now on */
        delete: operations["revokeToken"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/plugins": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The plugins this host offers: formats, compressions, auth methods, … with their options */
        get: operations["listPlugins"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Error: {
            error: {
                code: string;
                message: string;
                issues?: {
                    /** @description The field, e.g. auth.roleArn; empty for the whole body */
                    path: string;
                    message: string;
                    expected?: string;
                    received?: string;
                }[];
                details?: {
                    [key: string]: unknown;
                };
            };
        };
        Warning: {
            /** @description The field, e.g. rule or mapping.fields[0].source */
            path: string;
            /** @description What is wrong, with the closest real name where one is close */
            message: string;
        };
        DestinationInput: {
            name: string;
            description?: string;
            bucket: string;
            /** @default  */
            folderPath?: string;
            /** @default us-east-1 */
            region?: string;
            endpoint?: string;
            forcePathStyle?: boolean;
            /** @description How edge-export signs in to S3: auth.method picks the plugin auth/<method>, its options sit beside it */
            auth: {
                /** @constant */
                method: "accessKey";
                accessKeyId: string;
                secretAccessKey: string;
                sessionToken?: string;
            } | {
                /** @constant */
                method: "assumedRole";
                roleArn: string;
                /** @default edge-export */
                roleSessionName?: string;
                /** @default 3600 */
                durationSeconds?: number;
                /** @default 300 */
                refreshSkewSeconds?: number;
                /** Format: uri */
                stsEndpoint?: string;
                /** @default us-east-1 */
                stsRegion?: string;
                platformCredentials?: {
                    accessKeyId: string;
                    secretAccessKey: string;
                    sessionToken?: string;
                };
            };
            /**
             * @description A format plugin: csv, json, parquet, or another registered one (GET /v1/plugins?kind=format lists them: avro when edge-export-avro is installed)
             * @default csv
             * @example csv
             * @example json
             * @example parquet
             */
            fileType?: string;
            /** @default {} */
            formatOptions?: {
                [key: string]: unknown;
            };
            /**
             * @default none
             * @example none
             * @example gzip
             * @example zstd
             */
            compression?: string;
            /** @default {} */
            compressionOptions?: {
                [key: string]: unknown;
            };
            /** @default false */
            manifest?: boolean;
            pgpPublicKey?: string;
            sse?: string;
            kmsKeyId?: string;
            acl?: string;
            storageClass?: string;
            tags?: {
                [key: string]: string;
            };
            metadata?: {
                [key: string]: string;
            };
        };
        Destination: {
            name: string;
            description?: string;
            bucket: string;
            folderPath: string;
            region: string;
            endpoint?: string;
            forcePathStyle?: boolean;
            fileType: string;
            /** @default {} */
            formatOptions?: {
                [key: string]: unknown;
            };
            compression: string;
            /** @default {} */
            compressionOptions?: {
                [key: string]: unknown;
            };
            manifest: boolean;
            pgpPublicKey?: string;
            sse?: string;
            kmsKeyId?: string;
            acl?: string;
            storageClass?: string;
            tags?: {
                [key: string]: string;
            };
            metadata?: {
                [key: string]: string;
            };
            id: string;
            /** @description The auth settings; secret fields are masked (e.g. "****abcd"), never returned */
            auth: {
                method: string;
            };
            /** @description Assumed-role destinations: put it in the role trust policy */
            externalId?: string;
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description ISO 8601 UTC time */
            updatedAt: string;
        };
        DestinationPage: {
            items: components["schemas"]["Destination"][];
            /** @description Pass as ?cursor= for the next page; absent on the last */
            cursor?: string;
        };
        ConnectionTest: {
            ok: boolean;
            /** @description ISO 8601 UTC time */
            testedAt: string;
            results: {
                /** @description IAM action, e.g. s3:PutObject */
                action: string;
                resource: string;
                ok: boolean;
                /** @enum {string} */
                status?: "ok" | "missing" | "unsupported" | "error" | "untested";
                required?: boolean;
                impact?: string;
                message?: string;
            }[];
            warnings: string[];
        };
        Policies: {
            /** @description An IAM policy document */
            permissionPolicy: {
                Version: string;
                Statement: Record<string, never>[];
            };
            /** @description An IAM policy document */
            trustPolicy?: {
                Version: string;
                Statement: Record<string, never>[];
            };
            note?: string;
            lifecycleConfiguration?: Record<string, never>;
            lifecycleNote?: string;
            externalId?: string;
        };
        SourceInput: {
            name: string;
            description?: string;
            /** @enum {string} */
            format: "parquet" | "ndjson" | "csv";
            location: {
                /** @constant */
                type: "s3";
                bucket: string;
                /** @default us-east-1 */
                region?: string;
                endpoint?: string;
                forcePathStyle?: boolean;
                key?: string;
                prefix?: string;
                auth: {
                    method: string;
                };
            } | {
                /** @constant */
                type: "r2";
                binding: string;
                key?: string;
                prefix?: string;
            };
            hivePartitioning?: boolean;
            schema?: components["schemas"]["Column"][];
            idColumn?: string;
            updatedAtColumn?: string;
            rowsPerTask?: number;
            csv?: {
                /** @default , */
                delimiter?: string;
                /** @default " */
                quote?: string;
                /** @default \ */
                escape?: string;
                charToEscapeQuoteEscaping?: string;
                /** @default true */
                header?: boolean;
                nullValue?: string;
                /**
                 * @default UTF-8
                 * @enum {string}
                 */
                encoding?: "UTF-8" | "UTF-16" | "UTF-16LE" | "UTF-16BE";
            };
        };
        Source: {
            name: string;
            description?: string;
            /** @enum {string} */
            format: "parquet" | "ndjson" | "csv";
            hivePartitioning?: boolean;
            schema?: components["schemas"]["Column"][];
            idColumn?: string;
            updatedAtColumn?: string;
            rowsPerTask?: number;
            csv?: {
                /** @default , */
                delimiter?: string;
                /** @default " */
                quote?: string;
                /** @default \ */
                escape?: string;
                charToEscapeQuoteEscaping?: string;
                /** @default true */
                header?: boolean;
                nullValue?: string;
                /**
                 * @default UTF-8
                 * @enum {string}
                 */
                encoding?: "UTF-8" | "UTF-16" | "UTF-16LE" | "UTF-16BE";
            };
            id: string;
            /** @description Where the files are (as given); an S3 location's auth has its secret fields masked (e.g. "****abcd"), never returned */
            location: {
                /** @enum {string} */
                type: "s3" | "r2";
            };
            /** @description Assumed-role sources: put it in the role trust policy */
            externalId?: string;
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description ISO 8601 UTC time */
            updatedAt: string;
        };
        SourcePage: {
            items: components["schemas"]["Source"][];
            /** @description Pass as ?cursor= for the next page; absent on the last */
            cursor?: string;
        };
        SourceTest: {
            ok: boolean;
            /** @description ISO 8601 UTC time */
            testedAt: string;
            /** @description Where it looked: s3://bucket/prefix, r2://BINDING/prefix */
            location: string;
            /** @description Files of the source's format checked: footers (Parquet) or headers (CSV) read and matched against the schema (1 for a key) */
            files?: number;
            /** @description The prefix holds more objects than the test checked (it plans the first 20 listed; a run plans them all) */
            more?: boolean;
            /** @description Their total size */
            bytes?: number;
            /** @description Parquet: rows in those files (from their footers) */
            rows?: number;
            /** @description The first file, whose footer (Parquet) or first bytes were read */
            sample?: {
                key: string;
                size: number;
                /** @description Parquet: rows in the file (from its footer) */
                rows?: number;
                /** @description Parquet: row groups in the file */
                rowGroups?: number;
            };
            /** @description The columns a run reads: declared, or from the first file's footer (partition columns last) */
            schema?: {
                name: string;
                type: string;
            }[];
            /** @description Why the test failed (ok: false) */
            error?: {
                /** @description e.g. S3_ACCESS_DENIED, SOURCE_NOT_FOUND, SOURCE_INVALID */
                code: string;
                /** @description What failed and what to fix (the missing IAM action, the missing key or empty prefix, the mismatching column) */
                message: string;
                /** @description Access denied: the IAM action the credentials lack, e.g. s3:ListBucket */
                action?: string;
            };
        };
        DataflowInput: {
            name: string;
            destinationId: string;
            audienceIds?: string[];
            audiences?: {
                id: string;
                schedule?: components["schemas"]["Schedule"] | null;
                naming?: components["schemas"]["FileNaming"];
            }[];
            datasetId?: string;
            mapping?: components["schemas"]["Mapping"];
            schedule?: components["schemas"]["Schedule"];
            /** @default {} */
            naming?: components["schemas"]["FileNaming"];
            partitionBy?: components["schemas"]["PartitionBy"];
            /**
             * @description full: every member; incremental: joined, changed and exited members with a status column; insert-only: joined members only; diff: added, changed and removed members as <name>_added/_changed/_removed files (audiences only; see docs/API.md, Export modes)
             * @default full
             * @enum {string}
             */
            exportMode?: "full" | "incremental" | "insert-only" | "diff";
            /** Format: uri */
            alertWebhook?: string;
            alertSecret?: string | null;
            skippedRateThreshold?: number;
            alertEvents?: ("run.started" | "run.succeeded" | "run.failed" | "run.delayed" | "run.skipped_rate" | "run.recovered")[];
            /**
             * @default signed-json
             * @enum {string}
             */
            alertFormat?: "signed-json" | "slack";
            lateAfterMinutes?: number;
            /** @default true */
            enabled?: boolean;
        };
        Dataflow: {
            id: string;
            name: string;
            destinationId: string;
            audienceIds?: string[];
            /** @description Audiences with their own schedule (null: only on demand) or file naming; the others follow the dataflow's */
            audiences?: {
                id: string;
                schedule?: components["schemas"]["Schedule"] | null;
                naming?: components["schemas"]["FileNaming"];
            }[];
            datasetId?: string;
            mapping: components["schemas"]["Mapping"] | Record<string, never>;
            schedule?: components["schemas"]["Schedule"];
            naming: components["schemas"]["FileNaming"];
            partitionBy?: components["schemas"]["PartitionBy"];
            /** @enum {string} */
            exportMode: "full" | "incremental" | "insert-only" | "diff";
            alertWebhook?: string;
            /** @description Whether alert bodies are signed (the secret is never returned) */
            alertSigned: boolean;
            skippedRateThreshold?: number;
            /** @description The events that post to alertWebhook */
            alertEvents: ("run.started" | "run.succeeded" | "run.failed" | "run.delayed" | "run.skipped_rate" | "run.recovered")[];
            /**
             * @description signed-json: the event as JSON (signed when alertSigned); slack: a Slack incoming-webhook message
             * @enum {string}
             */
            alertFormat: "signed-json" | "slack";
            /** @description Minutes after its slot a scheduled run must have finished by, or run.delayed (reason "late") posts once */
            lateAfterMinutes?: number;
            enabled: boolean;
            /** @description Where signed webhook deliveries trigger this dataflow */
            webhookUrl: string;
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description ISO 8601 UTC time */
            updatedAt: string;
        };
        CreatedDataflow: {
            id: string;
            name: string;
            destinationId: string;
            audienceIds?: string[];
            /** @description Audiences with their own schedule (null: only on demand) or file naming; the others follow the dataflow's */
            audiences?: {
                id: string;
                schedule?: components["schemas"]["Schedule"] | null;
                naming?: components["schemas"]["FileNaming"];
            }[];
            datasetId?: string;
            mapping: components["schemas"]["Mapping"] | Record<string, never>;
            schedule?: components["schemas"]["Schedule"];
            naming: components["schemas"]["FileNaming"];
            partitionBy?: components["schemas"]["PartitionBy"];
            /** @enum {string} */
            exportMode: "full" | "incremental" | "insert-only" | "diff";
            alertWebhook?: string;
            /** @description Whether alert bodies are signed (the secret is never returned) */
            alertSigned: boolean;
            skippedRateThreshold?: number;
            /** @description The events that post to alertWebhook */
            alertEvents: ("run.started" | "run.succeeded" | "run.failed" | "run.delayed" | "run.skipped_rate" | "run.recovered")[];
            /**
             * @description signed-json: the event as JSON (signed when alertSigned); slack: a Slack incoming-webhook message
             * @enum {string}
             */
            alertFormat: "signed-json" | "slack";
            /** @description Minutes after its slot a scheduled run must have finished by, or run.delayed (reason "late") posts once */
            lateAfterMinutes?: number;
            enabled: boolean;
            /** @description Where signed webhook deliveries trigger this dataflow */
            webhookUrl: string;
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description ISO 8601 UTC time */
            updatedAt: string;
            /** @description Signs webhook deliveries; shown only here */
            webhookSecret: string;
            /** @description Present when a rule or mapping names an attribute or identity namespace no profile of the organization has (or none could be checked yet); the resource is saved anyway */
            warnings?: components["schemas"]["Warning"][];
        };
        SavedDataflow: {
            id: string;
            name: string;
            destinationId: string;
            audienceIds?: string[];
            /** @description Audiences with their own schedule (null: only on demand) or file naming; the others follow the dataflow's */
            audiences?: {
                id: string;
                schedule?: components["schemas"]["Schedule"] | null;
                naming?: components["schemas"]["FileNaming"];
            }[];
            datasetId?: string;
            mapping: components["schemas"]["Mapping"] | Record<string, never>;
            schedule?: components["schemas"]["Schedule"];
            naming: components["schemas"]["FileNaming"];
            partitionBy?: components["schemas"]["PartitionBy"];
            /** @enum {string} */
            exportMode: "full" | "incremental" | "insert-only" | "diff";
            alertWebhook?: string;
            /** @description Whether alert bodies are signed (the secret is never returned) */
            alertSigned: boolean;
            skippedRateThreshold?: number;
            /** @description The events that post to alertWebhook */
            alertEvents: ("run.started" | "run.succeeded" | "run.failed" | "run.delayed" | "run.skipped_rate" | "run.recovered")[];
            /**
             * @description signed-json: the event as JSON (signed when alertSigned); slack: a Slack incoming-webhook message
             * @enum {string}
             */
            alertFormat: "signed-json" | "slack";
            /** @description Minutes after its slot a scheduled run must have finished by, or run.delayed (reason "late") posts once */
            lateAfterMinutes?: number;
            enabled: boolean;
            /** @description Where signed webhook deliveries trigger this dataflow */
            webhookUrl: string;
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description ISO 8601 UTC time */
            updatedAt: string;
            /** @description Present when a rule or mapping names an attribute or identity namespace no profile of the organization has (or none could be checked yet); the resource is saved anyway */
            warnings?: components["schemas"]["Warning"][];
        };
        DataflowPage: {
            items: components["schemas"]["Dataflow"][];
            /** @description Pass as ?cursor= for the next page; absent on the last */
            cursor?: string;
        };
        Mapping: {
            fields: {
                source: string;
                target?: string;
                type?: components["schemas"]["ColumnType"];
                mandatory?: boolean;
                transforms?: (string | {
                    name: string;
                    separator?: string;
                })[];
            }[];
            dedup?: {
                identity: string;
            } | {
                attributes: string[];
            };
        };
        Schedule: {
            /** @enum {string} */
            frequency: "once" | "daily" | "weekly" | "monthly" | "hourly";
            /** @enum {number} */
            everyHours?: 3 | 6 | 8 | 12;
            /** @default 00:00 */
            time?: "afterEvaluation" | string;
            startDate: string;
            endDate?: string;
        };
        FileNaming: {
            /** @default false */
            audienceName?: boolean;
            /**
             * @default datetime
             * @enum {string}
             */
            dateTime?: "datetime" | "unix" | "none";
            customText?: string;
            /** @default false */
            destinationId?: boolean;
            /** @default false */
            organization?: boolean;
            /** @default false */
            sandbox?: boolean;
            /** @description A file-name template used instead of the parts above, e.g. {destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id} (tokens: docs/NAMING.md) */
            template?: string;
        };
        PartitionBy: {
            columns: string[];
            /** @default 1000 */
            maxPartitions?: number;
        };
        AudienceInput: {
            /** @constant */
            kind: "rule";
            name: string;
            rule: string;
            sourceId?: string;
        } | {
            /** @constant */
            kind: "upload";
            name: string;
            sourceId?: unknown;
        };
        Audience: {
            id: string;
            name: string;
            /** @enum {string} */
            kind: "rule" | "upload";
            rule?: string;
            /** @description Rule audiences reading a snapshot source: its id (absent: the profiles in D1) */
            sourceId?: string;
            /** @description Upload audiences, GET by id only: members imported */
            members?: number;
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description ISO 8601 UTC time */
            updatedAt: string;
        };
        SavedAudience: {
            id: string;
            name: string;
            /** @enum {string} */
            kind: "rule" | "upload";
            rule?: string;
            /** @description Rule audiences reading a snapshot source: its id (absent: the profiles in D1) */
            sourceId?: string;
            /** @description Upload audiences, GET by id only: members imported */
            members?: number;
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description ISO 8601 UTC time */
            updatedAt: string;
            /** @description Present when a rule or mapping names an attribute or identity namespace no profile of the organization has (or none could be checked yet); the resource is saved anyway */
            warnings?: components["schemas"]["Warning"][];
        };
        AudiencePage: {
            items: components["schemas"]["Audience"][];
            /** @description Pass as ?cursor= for the next page; absent on the last */
            cursor?: string;
        };
        UploadResult: {
            imported: number;
            rows: number;
            /** @description The upload counts as an evaluation of the audience */
            evaluationId: string;
        };
        Evaluation: {
            evaluationId: string;
            audienceId: string;
            /** @description ISO 8601 UTC time */
            evaluatedAt: string;
        };
        AudiencePreviewInput: {
            mapping?: components["schemas"]["Mapping"];
        };
        AudiencePreview: {
            audienceId: string;
            /** @description Profiles in the organization */
            profiles: number;
            /** @description Members now (scaled when not complete) */
            members: number;
            /** @description Members the draft mapping would skip (scaled when not complete); 0 without a mapping */
            skipped: number;
            /** @description Skipped members by reason, "missing:<field>" or "invalid:<field>" (counted part only) */
            skippedBy: {
                [key: string]: number;
            };
            /** @description True when every profile was counted */
            complete: boolean;
            /** @description What was counted, when not every profile was */
            sample?: {
                profiles: number;
                members: number;
                skipped: number;
            };
        };
        Profile: {
            id: string;
            /** @default {} */
            identities?: {
                [key: string]: string[];
            };
            /** @default {} */
            attributes?: unknown;
            /** Format: date-time */
            updatedAt?: string;
        };
        DatasetInput: {
            id: string;
            name: string;
            schema: components["schemas"]["Column"][];
            sourceId?: string;
        };
        Dataset: {
            id: string;
            name: string;
            schema: components["schemas"]["Column"][];
            /** @description Datasets reading a snapshot source: its id (absent: the records in D1) */
            sourceId?: string;
            /** @description ISO 8601 UTC time */
            createdAt: string;
        };
        DatasetList: {
            items: components["schemas"]["Dataset"][];
        };
        Column: {
            name: string;
            type: components["schemas"]["ColumnType"];
            nullable?: boolean;
        };
        ColumnType: ("string" | "integer" | "double" | "boolean" | "timestamp" | "date") | {
            list: components["schemas"]["ColumnType"];
        } | {
            struct: components["schemas"]["Column"][];
        };
        DatasetRecord: {
            id: string;
            /** Format: date-time */
            updatedAt: string;
            values: unknown;
        };
        Stored: {
            /** @description Records stored */
            stored: number;
        };
        Run: {
            id: string;
            dataflowId: string;
            /** @enum {string} */
            trigger: "schedule" | "webhook" | "api";
            /** @enum {string} */
            status: "queued" | "running" | "succeeded" | "failed";
            /** @description ISO 8601 UTC time */
            scheduledTime: string;
            /** @description The audiences this run exports (a per-audience schedule's slot); absent: all of the dataflow's */
            audienceIds?: string[];
            rows?: number;
            /** @description Rows skipped, by reason */
            skipped?: {
                [key: string]: number;
            };
            bytes?: number;
            files?: {
                key: string;
                sinkPath: string;
                name: string;
                size: number;
                rows: number;
                sha256: string;
                /** @description A partitioned dataflow's file: its value of each partitionBy column (null: the default partition) */
                partition?: {
                    [key: string]: string | null;
                };
                /**
                 * @description Diff exports: the kind of rows the file holds
                 * @enum {string}
                 */
                kind?: "added" | "changed" | "removed";
            }[];
            error?: {
                code?: string;
                message?: string;
            };
            attempts: number;
            /** @description A run of a snapshot source or of a sharded organization’s profiles, fanned out over the queue (detail only; docs/SNAPSHOTS.md, docs/SCALE.md) */
            fanout?: {
                /** @description Tasks the run was split into (units of its snapshot, or key ranges of its organization’s shards) */
                tasks: number;
                /** @description Tasks done so far */
                done: number;
                /** @description Claims of all its tasks: more than tasks when some were retried */
                attempts: number;
                /** @description Bytes its done tasks fetched from the snapshot (ranged GETs or whole objects); 0 for shards */
                bytesFetched: number;
                /** @description Requests its done tasks made to the snapshot store, or pages (RPCs) they read from the shards */
                requests: number;
                /** @description Snapshot rows, or shard profiles, its done tasks read */
                rowsRead: number;
            };
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description ISO 8601 UTC time */
            startedAt?: string;
            /** @description ISO 8601 UTC time */
            finishedAt?: string;
            durationMs?: number;
        };
        RunPage: {
            items: components["schemas"]["Run"][];
            /** @description Pass as ?cursor= for the next page; absent on the last */
            cursor?: string;
        };
        OrganizationInput: {
            name: string;
            /** @description Shards for the organization's profiles (docs/SCALE.md); absent: one D1 database, the default */
            shards?: number;
            sandbox?: string;
        };
        CreatedOrganization: {
            id: string;
            name: string;
            sandbox: string;
            /** @description The API token eex_… (scope all); only its hash is kept */
            token: string;
            /** @description That token's id, to rotate or revoke it (/tokens/{id}) */
            tokenId: string;
            /** @description Its profiles' shards, when it was created with some */
            shards?: number;
        };
        OrganizationShardsInput: {
            shards: number;
        };
        OrganizationShards: {
            organizationId: string;
            layout: {
                /** @constant */
                version: 1;
                /** @description Bumped by every change of owners */
                generation: number;
                shards: {
                    /** @description The shard: its Durable Object is named <organization id>/<name> */
                    name: string;
                    /** @description First bucket it owns (of 4,096) */
                    from: number;
                    /** @description Bucket after the last it owns */
                    to: number;
                }[];
                /** @description While resharding: the owners being copied into */
                next?: {
                    /** @description The shard: its Durable Object is named <organization id>/<name> */
                    name: string;
                    /** @description First bucket it owns (of 4,096) */
                    from: number;
                    /** @description Bucket after the last it owns */
                    to: number;
                }[];
            } | null;
            /** @description The organization's latest resharding (docs/SCALE.md, "Resharding") */
            resharding: {
                /**
                 * @description idle: no resharding running (the fields below describe the last one, if any)
                 * @enum {string}
                 */
                state: "idle" | "copying" | "cleanup";
                /** @description The layout generation grown (0: from the single-database layout) */
                generation?: number;
                /** @enum {string} */
                from?: "shards" | "single-database";
                /** @description The shard count grown to */
                shards?: number;
                /** @description Buckets (of 4,096) that change owner: the share of profiles copied */
                movedBuckets?: number;
                /** @description Profiles read from their old owners so far */
                copied?: number;
                /** @description Of those, the ones their new owner did not have yet (not dual-written by ingest) */
                inserted?: number;
                /** @description Moved profiles deleted from their old owners by the cleanup */
                deleted?: number;
                /** @description The last failed step (retried) */
                error?: {
                    [key: string]: unknown;
                };
                startedAt?: string;
                /** @description When the layout became the next owners */
                flippedAt?: string;
                finishedAt?: string;
            };
        };
        TokenInput: {
            name: string;
            scopes: ("destinations:read" | "destinations:write" | "sources:read" | "sources:write" | "audiences:read" | "audiences:write" | "dataflows:read" | "dataflows:activate" | "profiles:read" | "ingest" | "runs:read" | "tokens:manage" | "all")[];
        };
        Token: {
            id: string;
            name: string;
            scopes: ("destinations:read" | "destinations:write" | "sources:read" | "sources:write" | "audiences:read" | "audiences:write" | "dataflows:read" | "dataflows:activate" | "profiles:read" | "ingest" | "runs:read" | "tokens:manage" | "all")[];
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description Written at most once a minute */
            lastUsedAt?: string;
            /** @description ISO 8601 UTC time */
            rotatedAt?: string;
            /** @description This is the token that made the request */
            current: boolean;
        };
        TokenList: {
            items: components["schemas"]["Token"][];
        };
        IssuedToken: {
            id: string;
            name: string;
            scopes: ("destinations:read" | "destinations:write" | "sources:read" | "sources:write" | "audiences:read" | "audiences:write" | "dataflows:read" | "dataflows:activate" | "profiles:read" | "ingest" | "runs:read" | "tokens:manage" | "all")[];
            /** @description ISO 8601 UTC time */
            createdAt: string;
            /** @description Written at most once a minute */
            lastUsedAt?: string;
            /** @description ISO 8601 UTC time */
            rotatedAt?: string;
            /** @description This is the token that made the request */
            current: boolean;
            /** @description The secret eex_…: shown in this response only */
            token: string;
        };
        OpenApiDocument: {
            openapi: string;
        };
        Plugin: {
            /** @description `<kind>/<name>` (format/csv) or a third party's own name */
            name: string;
            /** @description format, compression, encryption, auth, naming, manifest, sink or source */
            kind: string;
            description: string;
            /** @description The plugin's options, as JSON Schema (draft 2020-12) */
            options: {
                [key: string]: unknown;
            };
            /** @description How a destination picks it: `fileType: "avro"`; its options go in formatOptions, compressionOptions or beside auth.method */
            destination?: {
                /** @enum {string} */
                field: "fileType" | "compression" | "auth.method";
                value: string;
            };
            /** @description Options that hold secrets: sealed at rest, masked in answers */
            secrets?: string[];
        };
        PluginList: {
            items: components["schemas"]["Plugin"][];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OpenApiDocument"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    triggerWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description Unix seconds; within 5 minutes of the server clock */
                "X-Edge-Export-Timestamp": string;
                /** @description Part of the signed message when sent: one run per key */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description The dataflow's id */
                dataflowId: string;
            };
            cookie?: never;
        };
        /** @description The delivery: any body up to 64 KiB, covered by the signature (its content is not read) */
        requestBody: {
            content: {
                "*/*": string;
            };
        };
        responses: {
            /** @description The queued run */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description Malformed Idempotency-Key */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Bad, expired or missing signature */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Replayed or duplicate delivery, or the dataflow is disabled */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createOrganization: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["OrganizationInput"];
            };
        };
        responses: {
            /** @description The organization and its token (shown only here) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedOrganization"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong ADMIN_TOKEN */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getOrganizationShards: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The admin's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The layout */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OrganizationShards"];
                };
            };
            /** @description Missing or wrong ADMIN_TOKEN */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    setOrganizationShards: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The admin's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["OrganizationShardsInput"];
            };
        };
        responses: {
            /** @description The new layout (generation bumped), or the resharding started */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OrganizationShards"];
                };
            };
            /** @description `shards` does not grow the organization (a resharding only adds shards) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong ADMIN_TOKEN */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description A resharding of the organization is still copying or cleaning up (naming `shards`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listDestinations: {
        parameters: {
            query?: {
                /** @description Items per page, 1–100 (default 50) */
                limit?: number;
                /** @description The cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of destinations */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DestinationPage"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "destinations:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createDestination: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DestinationInput"];
            };
        };
        responses: {
            /** @description The destination, secrets masked */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Destination"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "destinations:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getDestination: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The destination's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The destination, secrets masked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Destination"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "destinations:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateDestination: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The destination's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DestinationInput"];
            };
        };
        responses: {
            /** @description The destination, secrets masked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Destination"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "destinations:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteDestination: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The destination's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "destinations:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description A dataflow uses the destination */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    testDestination: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The destination's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Each permission probed; ok when every required one is */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConnectionTest"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "destinations:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getDestinationPolicies: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The destination's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The policies */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Policies"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "destinations:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listSources: {
        parameters: {
            query?: {
                /** @description Items per page, 1–100 (default 50) */
                limit?: number;
                /** @description The cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of sources */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SourcePage"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "sources:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createSource: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SourceInput"];
            };
        };
        responses: {
            /** @description The source, secrets masked */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Source"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "sources:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getSource: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The source's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The source, secrets masked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Source"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "sources:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateSource: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The source's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SourceInput"];
            };
        };
        responses: {
            /** @description The source, secrets masked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Source"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "sources:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteSource: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The source's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "sources:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An audience or a dataset reads the source (details.audienceIds, details.datasetIds name them) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    testSource: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The source's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description What was found, or the error naming what to fix (ok: false) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SourceTest"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "sources:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listDataflows: {
        parameters: {
            query?: {
                /** @description Items per page, 1–100 (default 50) */
                limit?: number;
                /** @description The cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of dataflows */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DataflowPage"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "dataflows:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createDataflow: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DataflowInput"];
            };
        };
        responses: {
            /** @description The dataflow, with its webhook secret (shown only here) and warnings about its mapping if any */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedDataflow"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "dataflows:activate" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getDataflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The dataflow's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The dataflow */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataflow"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "dataflows:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateDataflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The dataflow's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DataflowInput"];
            };
        };
        responses: {
            /** @description The dataflow, with warnings about its mapping if any */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SavedDataflow"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "dataflows:activate" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteDataflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The dataflow's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "dataflows:activate" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    exportNow: {
        parameters: {
            query?: never;
            header?: {
                /** @description 1–255 printable ASCII characters: the run is created once per key */
                "Idempotency-Key"?: string;
            };
            path: {
                /** @description The dataflow's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The queued run (a new one, or the manual run still waiting to start) */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description Malformed Idempotency-Key */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "dataflows:activate" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description This Idempotency-Key was already used (details.runId names its run) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listAudiences: {
        parameters: {
            query?: {
                /** @description Items per page, 1–100 (default 50) */
                limit?: number;
                /** @description The cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of audiences */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AudiencePage"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "audiences:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createAudience: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AudienceInput"];
            };
        };
        responses: {
            /** @description The audience, with warnings about its rule if any */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SavedAudience"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "audiences:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getAudience: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The audience's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The audience */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Audience"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "audiences:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateAudience: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The audience's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AudienceInput"];
            };
        };
        responses: {
            /** @description The audience, with warnings about its rule if any */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SavedAudience"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "audiences:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteAudience: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The audience's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "audiences:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    uploadAudienceMembers: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The audience's id */
                id: string;
            };
            cookie?: never;
        };
        /** @description The member list, streamed (at most 64 MiB) */
        requestBody: {
            content: {
                "text/csv": string;
            };
        };
        responses: {
            /** @description Imported: the upload is an evaluation of the audience */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UploadResult"];
                };
            };
            /** @description Not text/csv, or invalid rows: nothing imported; details.errors lists each bad row */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "ingest" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an upload audience */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    previewAudience: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The audience's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AudiencePreviewInput"];
            };
        };
        responses: {
            /** @description The counts; past 100,000 profiles (PREVIEW_MAX_PROFILES) they are scaled from the first ones counted (complete: false) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AudiencePreview"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "audiences:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The audience reads a snapshot source too large to preview whose row count is unknown (NDJSON or CSV, or more than 20 objects) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The audience's snapshot source could not be read: the error says what to fix (denied credentials, a missing file, a schema mismatch) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    evaluateAudience: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The audience's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The evaluation, recorded */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Evaluation"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "audiences:write" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    upsertProfiles: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description A batch, streamed: NDJSON (one Profile per line) or CSV with a header row */
        requestBody: {
            content: {
                "application/x-ndjson": string;
                "text/csv": string;
            };
        };
        responses: {
            /** @description Every record stored */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stored"];
                };
            };
            /** @description Invalid batch: nothing stored; details.errors lists each bad record with line, path, message */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "ingest" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listDatasets: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every dataset */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DatasetList"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "profiles:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createDataset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DatasetInput"];
            };
        };
        responses: {
            /** @description The dataset */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "ingest" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The id is taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getDataset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The dataset's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The dataset */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "profiles:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    upsertDatasetRecords: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The dataset's id */
                id: string;
            };
            cookie?: never;
        };
        /** @description A batch, streamed: NDJSON (one DatasetRecord per line) or CSV with a header row */
        requestBody: {
            content: {
                "application/x-ndjson": string;
                "text/csv": string;
            };
        };
        responses: {
            /** @description Every record stored */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stored"];
                };
            };
            /** @description Invalid batch: nothing stored; details.errors lists each bad record with line, path, message */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "ingest" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The dataset reads a snapshot source (its records are the snapshot's rows) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listRuns: {
        parameters: {
            query?: {
                /** @description Only this dataflow's runs */
                dataflowId?: string;
                /** @description Items per page, 1–100 (default 50) */
                limit?: number;
                /** @description The cursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of runs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunPage"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "runs:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The run's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Run"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "runs:read" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listTokens: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every live token, oldest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenList"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "tokens:manage" (the error names it) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TokenInput"];
            };
        };
        responses: {
            /** @description The token and its secret (shown once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IssuedToken"];
                };
            };
            /** @description Invalid input: every problem is listed in error.issues with its path */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "tokens:manage" (the error names it); or a scope it would grant that the calling token does not hold (details.scopes) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description A live token already has this name, or the organization holds 100 live tokens */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getCurrentToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The calling token */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Token"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The token was revoked while the request ran */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    rotateToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The token's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The token and its new secret (shown once) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IssuedToken"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "tokens:manage" (the error names it); or the token to rotate has a scope the calling token does not hold (details.scopes) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Request body over the route's limit (docs/SECURITY.md) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The token's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description FORBIDDEN: the token lacks the scope "tokens:manage" (the error names it); or the token to revoke has a scope the calling token does not hold (details.scopes) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not found in this organization */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The organization's last live token able to manage tokens (issue its successor first) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listPlugins: {
        parameters: {
            query?: {
                /** @description Only plugins of this kind (format, compression, auth, …) */
                kind?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The registered plugins, by name */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PluginList"];
                };
            };
            /** @description Missing, unknown, revoked or rotated-away token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Internal error (the message says no more) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
