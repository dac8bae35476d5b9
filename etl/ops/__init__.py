"""Operating a snapshot date safely: per-date claims (`claims`) and the write-audit-publish
bookkeeping of staged batches (`batches`), shared by the ingest and scoring pipelines."""
