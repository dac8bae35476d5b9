-- Statistics for the snapshot's fresh raw partitions (the staging build reads them next).
SELECT ops.analyze_partition('raw.market_file'::regclass, :snapshot_date);
SELECT ops.analyze_partition('raw.market_money'::regclass, :snapshot_date);
SELECT ops.analyze_partition('raw.market_time'::regclass, :snapshot_date);
SELECT ops.analyze_partition('raw.money'::regclass, :snapshot_date);
