-- Create-or-empty the :snapshot_date partition of every raw table (inside the load transaction).
SELECT ops.replace_partition('raw.market_file'::regclass, :snapshot_date);
SELECT ops.replace_partition('raw.market_money'::regclass, :snapshot_date);
SELECT ops.replace_partition('raw.market_time'::regclass, :snapshot_date);
SELECT ops.replace_partition('raw.money'::regclass, :snapshot_date);
