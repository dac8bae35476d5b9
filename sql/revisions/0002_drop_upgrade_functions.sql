-- Revision 0002 (etl/warehouse/migrations/versions/0002_drop_upgrade_functions.py): the functions
-- that converted plain feature and score tables of pre-partitioning warehouses in place. Every
-- warehouse at the baseline is converted already, and sql/schema no longer creates them.
DROP FUNCTION IF EXISTS ops.move_set_aside_rows(regclass);
DROP FUNCTION IF EXISTS ops.set_aside_plain_table(text);
