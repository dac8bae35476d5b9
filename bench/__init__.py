"""`make bench`: throughput of each phase of the job on a synthetic snapshot."""
