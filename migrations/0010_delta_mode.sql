-- Export modes beyond full and incremental: insert-only and diff keep a state like incremental
-- (export_mode stays 'incremental', whose CHECK predates them) and this column says which rows and
-- files they write. NULL: export_mode alone says the mode.
ALTER TABLE dataflows ADD COLUMN delta_mode TEXT CHECK (delta_mode IN ('insert-only', 'diff'));
