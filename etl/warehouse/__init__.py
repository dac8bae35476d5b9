"""The warehouse kernel: where the warehouse is, how to reach it, how SQL files run, how its schema
is migrated (migrations/: Alembic revisions), what the raw export holds. The lowest package: it
imports nothing else of the project."""
