"""The offer experiment's holdout: a deterministic random share of every segment, stable per
customer and campaign, whatever order, chunk or shard the customers are scored in."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from ml import experiments, segments

pytestmark = pytest.mark.unit

IDS = np.arange(215348, 215348 + 60_000, dtype=np.int64)


@pytest.fixture(scope="module")
def rules() -> segments.Rules:
    return segments.load_rules()


def test_the_rule_file_holds_out_a_tenth_of_every_segment(rules):
    experiment = rules.experiment
    assert experiment is not None and experiment.campaign
    assert all(experiment.share(code) == pytest.approx(0.10) for code in rules.codes)
    assert experiment.min_group >= 2 and 0.5 < experiment.confidence < 1


def test_each_segment_holds_out_its_share_and_the_draw_is_uniform(rules):
    codes = np.array(rules.codes, dtype=object)[IDS % len(rules.codes)]
    groups = experiments.assign_groups(IDS, codes, rules.experiment)
    for code in rules.codes:
        held = (groups[codes == code] == experiments.HOLDOUT).mean()
        # binomial sd of a share over ~5 500 customers is 0.004
        assert held == pytest.approx(0.10, abs=0.015), code
    draws = experiments.uniform_draws(IDS, "c", "s")
    assert np.histogram(draws, bins=10, range=(0, 1))[0] == pytest.approx(np.full(10, IDS.size / 10), rel=0.05)
    # consecutive ids (how the export numbers customers) must not correlate
    assert abs(np.corrcoef(draws[:-1], draws[1:])[0, 1]) < 0.02


def test_groups_do_not_depend_on_order_chunks_or_shards(rules):
    codes = np.array(rules.codes, dtype=object)[(IDS * 7) % len(rules.codes)]
    whole = experiments.assign_groups(IDS, codes, rules.experiment)
    order = np.random.default_rng(0).permutation(IDS.size)
    shuffled = experiments.assign_groups(IDS[order], codes[order], rules.experiment)
    assert (shuffled == whole[order]).all()
    shard = IDS % 2 == 1
    assert (experiments.assign_groups(IDS[shard], codes[shard], rules.experiment) == whole[shard]).all()
    assert (experiments.assign_groups(IDS[:100], codes[:100], rules.experiment) == whole[:100]).all()


def test_a_new_campaign_or_segment_draws_new_groups_and_shares_can_differ_per_segment():
    base = experiments.Experiment("spring", 0.2)
    codes = np.full(IDS.size, "a", dtype=object)
    spring = experiments.assign_groups(IDS, codes, base) == experiments.HOLDOUT
    autumn = experiments.assign_groups(IDS, codes, experiments.Experiment("autumn", 0.2)) == experiments.HOLDOUT
    other_segment = experiments.assign_groups(IDS, np.full(IDS.size, "b", dtype=object), base) == experiments.HOLDOUT
    # independent draws: both held out ≈ 0.2 × 0.2
    assert (spring & autumn).mean() == pytest.approx(0.04, abs=0.006)
    assert (spring & other_segment).mean() == pytest.approx(0.04, abs=0.006)
    overridden = experiments.Experiment("spring", 0.2, segment_holdout_share={"a": 0.5})
    assert (experiments.assign_groups(IDS, codes, overridden) == experiments.HOLDOUT).mean() == pytest.approx(
        0.5, abs=0.01
    )
    # a larger share keeps every customer the smaller one held out (the same draw, a higher cut)
    assert (experiments.assign_groups(IDS, codes, overridden) == experiments.HOLDOUT)[spring].all()
    nobody = experiments.Experiment("spring", 0.0)
    assert (experiments.assign_groups(IDS, codes, nobody) == experiments.TREATMENT).all()


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.pop("experiment"), "`experiment` is required"),
        (lambda d: d["experiment"].pop("campaign"), "campaign is required"),
        (lambda d: d["experiment"].update({"holdout_share": 1.0}), r"in \[0, 1\)"),
        (lambda d: d["experiment"].update({"segment_holdout_share": {"nobody": 0.2}}), "unknown segments"),
        (lambda d: d["experiment"].update({"min_group": 1}), "min_group"),
        (lambda d: d["experiment"].update({"holdout": 0.1}), "unknown keys"),
    ],
)
def test_bad_experiments_are_refused(edit, message):
    data = yaml.safe_load(segments.DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    edit(data)
    with pytest.raises(segments.RulesError, match=message):
        segments.parse_rules(data)
