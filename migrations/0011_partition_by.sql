-- Partitioning by column value (issue 20): the dataflow's partitionBy option as JSON
-- ({"columns": [...], "maxPartitions": n}); NULL: files are not partitioned.
ALTER TABLE dataflows ADD COLUMN partition_by TEXT;
