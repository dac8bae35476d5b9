"""Samples of unexpected values, fetched only for expectations that failed.

GX fetches a column expectation's unexpected values with a query of their own, which scans the
whole batch when there are none: at a million rows that was a quarter of a gate's time, spent on
expectations that passed. So a gate runs in two passes:

1. every expectation with `COUNT_FORMAT`: counts and verdicts, the value queries cut to LIMIT 0
   (the server answers them without reading a row);
2. only the failed column expectations again, with `SAMPLE_FORMAT`, on the same batch; their
   results (counts and samples) replace the first pass's, so findings, dq rows and Data Docs show
   the samples as before.

Unexpected-rows expectations get their rows and count in their one statement already
(etl/quality/single_pass.py) and are not run again; table-level ones have no samples.
"""

from __future__ import annotations

from typing import Any, Mapping

from etl.quality.suites import SuiteSpec, to_gx

SAMPLE_SIZE = 5
# SUMMARY cuts a column expectation's value query to partial_unexpected_count (COMPLETE would
# fetch every unexpected value); unexpected-rows checks return their rows in either format.
COUNT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
# The format the gate had before the two passes: the failed expectations' results are as before.
SAMPLE_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_SIZE}


def add_samples(context: Any, outcome: Any, specs: Mapping[str, SuiteSpec], definitions: Mapping[str, Any]) -> int:
    """Run the failed column expectations of each suite again on its batch (`definitions`: suite
    name → its validation definition) and put their results into `outcome`; how many were run."""
    import great_expectations as gx

    rerun = 0
    for validation in outcome.run_results.values():
        spec = specs[validation.suite_name]
        failed = {
            evr.expectation_config.meta["gate_index"]: evr for evr in validation.results if _wants_sample(spec, evr)
        }
        if not failed:
            continue
        suite = context.suites.add(gx.ExpectationSuite(name=f"{spec.name}__samples"))
        for index in failed:
            suite.add_expectation(to_gx(spec.all_expectations()[index], index))
        sampling = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{spec.name}__samples", data=definitions[spec.name].data, suite=suite)
        )
        for evr in sampling.run(result_format=SAMPLE_FORMAT).results:
            first = failed[evr.expectation_config.meta["gate_index"]]
            first.result, first.exception_info = evr.result, evr.exception_info
        rerun += len(failed)
    return rerun


def _wants_sample(spec: SuiteSpec, evr: Any) -> bool:
    expectation = spec.all_expectations()[evr.expectation_config.meta["gate_index"]]
    return (
        not evr.success
        and expectation.type != "unexpected_rows_expectation"
        and (evr.result or {}).get("unexpected_count") is not None
    )
