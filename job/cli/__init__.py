"""`churn`: the operator's command line (job/cli/commands.py)."""

from job.cli.commands import main

__all__ = ["main"]
