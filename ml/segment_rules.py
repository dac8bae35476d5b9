"""The rule file (`config/segments.yaml`): its model (`Rules`, `Segment`, `When`, `Condition`)
and its strict parser. `load_rules(path=None) -> Rules` refuses an unknown field, a missing
catch-all or a title naming another risk band at load time, not in the middle of a run.
ml/segments.py applies the rules; it re-exports these names.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from etl.warehouse import settings
from ml.experiments import Experiment, parse_experiment
from ml.uplift.rules import Targeting, parse_offer_terms, parse_targeting

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

DEFAULT_RULES_PATH: Path = settings.default("SEGMENT_RULES")  # the shipped rule file
RISK_BANDS: tuple[str, ...] = ("high", "medium", "low")
# Fields a rule may test besides the model inputs (ml.features.FEATURES).
DERIVED_FIELDS: tuple[str, ...] = ("churn_probability", "risk_band")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"version", "risk_bands", "high_profit_from", "segments", "top_factors", "experiment", "targeting"}
_SEGMENT_KEYS = {"code", "title", "description", "when", "offer"}
MAX_OFFER_LENGTH = 200


class RulesError(ValueError):
    """The rule file does not follow its format."""


def rules_path() -> Path:
    """`SEGMENT_RULES` (env) or config/segments.yaml."""
    return settings.current().SEGMENT_RULES


@dataclass(frozen=True)
class Condition:
    """One `field: …` entry: membership (`values`), range [low, high) or equality."""

    field: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        import numpy as np

        column = frame[self.field]
        if self.values is not None:
            return column.isin(list(self.values)).to_numpy(dtype=bool)
        values = column.to_numpy(dtype=float)
        result = np.ones(len(frame), dtype=bool)
        if self.low is not None:
            result &= values >= self.low
        if self.high is not None:
            result &= values < self.high
        return result

    def as_json(self) -> dict[str, Any]:
        if self.values is not None:
            return {self.field: list(self.values)}
        bounds = {k: v for k, v in (("min", self.low), ("max", self.high)) if v is not None}
        return {self.field: bounds}


@dataclass(frozen=True)
class When:
    """All `conditions` hold and, if `any_of` is given, at least one of its groups holds."""

    conditions: tuple[Condition, ...] = ()
    any_of: tuple[When, ...] = ()

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        import numpy as np

        result = np.ones(len(frame), dtype=bool)
        for condition in self.conditions:
            result &= condition.mask(frame)
        if self.any_of:
            alternatives = np.zeros(len(frame), dtype=bool)
            for group in self.any_of:
                alternatives |= group.mask(frame)
            result &= alternatives
        return result

    @property
    def is_catch_all(self) -> bool:
        return not self.conditions and not self.any_of


@dataclass(frozen=True)
class Segment:
    code: str
    title: str
    description: str
    when: When
    offer_code: str
    offer: str
    conditions: Mapping[str, Any]  # the `when` as written (stored for BI in scoring.segment_rules)
    offer_cost: float = 0.0  # per contact, the export's money unit (ml/uplift/rules.py)
    offer_family: str = ""  # offers of a family share an uplift model


@dataclass(frozen=True)
class Rules:
    version: str
    sha256: str
    fallback_threshold: float
    medium_share_of_threshold: float
    segments: tuple[Segment, ...]
    factor_count: int
    factor_min_impact: float
    experiment: Experiment  # the holdout (ml/experiments.py)
    phrases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    path: Path | None = None
    targeting: Targeting | None = None  # always set by the loader; offer costs, budget (ml/uplift/rules.py)

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.segments]

    def segment(self, code: str) -> Segment:
        for segment in self.segments:
            if segment.code == code:
                return segment
        raise KeyError(code)

    def records(self) -> list[dict[str, Any]]:
        """Rows for scoring.segment_rules (precedence 1 = checked first)."""
        return [
            {
                "rules_version": self.version,
                "segment": s.code,
                "precedence": i,
                "title": s.title,
                "description": s.description,
                "offer_code": s.offer_code,
                "offer": s.offer,
                "conditions": json.dumps(s.conditions, ensure_ascii=False),
                "rules_sha256": self.sha256,
            }
            for i, s in enumerate(self.segments, start=1)
        ]

    def phrase_records(self) -> list[dict[str, Any]]:
        """Rows for scoring.factor_phrases: per model input and direction the text of a reason,
        `{value}` standing for a category's value (so `factor_text` = the phrase with it filled)."""
        return [
            {
                "rules_version": self.version,
                "feature": feature,
                "direction": direction,
                "phrase": factor_text(self, feature, direction, "{value}"),
            }
            for feature in self.phrases
            for direction in ("low", "high", "value")
        ]


# ----------------------------------------------------------------------------------- loading
def load_rules(path: Path | str | None = None) -> Rules:
    """Read and validate the rule file (default: `rules_path()`)."""
    import yaml

    path = Path(path) if path else rules_path()
    payload = path.read_bytes()
    try:
        data = yaml.safe_load(payload)
    except yaml.YAMLError as error:
        raise RulesError(f"{path.name}: not valid YAML ({error})") from None
    return parse_rules(data, hashlib.sha256(payload).hexdigest(), path)


def parse_rules(data: Mapping[str, Any], sha256: str = "", path: Path | None = None) -> Rules:
    """The whole file checked, each refusal naming its key (`RulesError`)."""
    from ml.features import FEATURES

    where = path.name if path else "rules"

    def fail(problem: str) -> RulesError:
        return RulesError(f"{where}: {problem}")

    if not isinstance(data, Mapping):
        raise fail("expected a mapping at the top level")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    version = str(data.get("version") or "")
    if not version:
        raise fail("'version' is required (bump it on every change)")
    bands = data.get("risk_bands") or {}
    fallback = float(bands.get("fallback_threshold", 0.5))
    medium_share = float(bands.get("medium_share_of_threshold", 0.5))
    if not 0 < fallback <= 1 or not 0 < medium_share < 1:
        raise fail("risk_bands: fallback_threshold must be in (0, 1], medium_share_of_threshold in (0, 1)")
    band_titles = {str(k): str(v) for k, v in (bands.get("titles") or {}).items() if v}
    if set(band_titles) != set(RISK_BANDS):
        raise fail(f"risk_bands.titles must name each band {RISK_BANDS} (a segment title starts with it)")

    allowed = set(FEATURES) | set(DERIVED_FIELDS)
    entries = data.get("segments") or []
    if not entries:
        raise fail("'segments' is required")
    segments = tuple(_parse_segment(entry, i, allowed, fail) for i, entry in enumerate(entries))
    codes = [s.code for s in segments]
    if len(set(codes)) != len(codes):
        raise fail(f"segment codes repeat: {codes}")
    if not segments[-1].when.is_catch_all:
        raise fail(f"the last segment ({segments[-1].code}) must have `when: {{}}` so every customer gets one")
    for segment in segments[:-1]:
        if segment.when.is_catch_all:
            raise fail(f"segment {segment.code} matches everyone, so the segments after it would stay empty")
    for segment, band in zip(segments, _bands_reaching(segments, fail)):
        if not segment.title.startswith(band_titles[band]):
            raise fail(
                f"segment {segment.code} holds {band}-risk customers only, so its title must start "
                f"with «{band_titles[band]}», not «{segment.title}»"
            )

    phrases, count, min_impact = _parse_top_factors(data.get("top_factors") or {}, fail)
    experiment = parse_experiment(data.get("experiment"), codes, fail)
    targeting = parse_targeting(data.get("targeting"), fail)
    return Rules(
        version, sha256, fallback, medium_share, segments, count, min_impact, experiment, phrases, path, targeting
    )


def _parse_top_factors(factors: Mapping[str, Any], fail) -> tuple[dict[str, dict], int, float]:
    """The reason phrases (one per model input), how many reasons, the smallest impact shown."""
    from ml.features import FEATURES

    phrases = {str(k): dict(v) for k, v in (factors.get("phrases") or {}).items()}
    missing = [f for f in FEATURES if f not in phrases]
    if missing:
        raise fail(f"top_factors.phrases lacks {missing}")
    for feature, entry in phrases.items():
        if feature not in FEATURES:
            raise fail(f"top_factors.phrases: {feature!r} is not a model input")
        if not ({"low", "high"} <= set(entry) or "value" in entry):
            raise fail(f"top_factors.phrases.{feature}: give `low` and `high`, or `value`")
    count = int(factors.get("count", 3))
    min_impact = float(factors.get("min_impact", 0.0))
    if count < 1 or min_impact < 0:
        raise fail("top_factors: count must be >= 1 and min_impact >= 0")
    return phrases, count, min_impact


def _bands_reaching(segments: Sequence[Segment], fail) -> list[str]:
    """The one risk band of each segment: those its `risk_band` condition admits (all without one)
    minus those earlier segments testing only the band took whole; two bands or none: refused."""
    taken: set[str] = set()
    result: list[str] = []
    for segment in segments:
        tests = [c for c in segment.when.conditions if c.field == "risk_band"]
        admitted = set(tests[0].values or ()) if tests else set(RISK_BANDS)
        reaching = [band for band in RISK_BANDS if band in admitted - taken]
        if len(reaching) != 1:
            raise fail(
                f"segment {segment.code} can hold customers of risk bands {reaching or 'none'}: "
                "give it `risk_band: [one band]` (or order the rules so only one band is left)"
            )
        result.append(reaching[0])
        if tests and len(segment.when.conditions) == 1 and not segment.when.any_of:
            taken |= admitted
    return result


def _parse_segment(entry: Mapping[str, Any], index: int, allowed: set[str], fail) -> Segment:
    if not isinstance(entry, Mapping):
        raise fail(f"segment #{index + 1}: expected a mapping")
    unknown = set(entry) - _SEGMENT_KEYS
    if unknown:
        raise fail(f"segment #{index + 1}: unknown keys {sorted(unknown)}")
    code = str(entry.get("code") or "")
    if not _CODE.match(code):
        raise fail(f"segment #{index + 1}: code must be snake_case, got {code!r}")
    offer = entry.get("offer") or {}
    offer_code, text = str(offer.get("code") or ""), str(offer.get("text") or "").strip()
    if not _CODE.match(offer_code) or not text:
        raise fail(f"segment {code}: offer needs a snake_case `code` and a `text`")
    if len(text) > MAX_OFFER_LENGTH:
        raise fail(f"segment {code}: offer text longer than {MAX_OFFER_LENGTH} characters")
    cost, family = parse_offer_terms(offer, code, fail)
    if "when" not in entry:
        raise fail(f"segment {code}: `when` is required (`when: {{}}` for the catch-all)")
    raw_when = entry.get("when") or {}
    when = _parse_when(raw_when, code, allowed, fail)
    return Segment(
        code,
        str(entry.get("title") or code),
        str(entry.get("description") or ""),
        when,
        offer_code,
        text,
        _plain(raw_when),
        cost,
        family,
    )


def _parse_when(raw: Mapping[str, Any], code: str, allowed: set[str], fail) -> When:
    if not isinstance(raw, Mapping):
        raise fail(f"segment {code}: `when` must be a mapping")
    conditions: list[Condition] = []
    groups: list[When] = []
    for name, spec in raw.items():
        if name == "any":
            if not isinstance(spec, list) or not spec:
                raise fail(f"segment {code}: `any` must be a non-empty list of condition maps")
            groups.extend(_parse_when(group, code, allowed, fail) for group in spec)
            continue
        if name not in allowed:
            raise fail(f"segment {code}: unknown field {name!r} (allowed: model inputs, {', '.join(DERIVED_FIELDS)})")
        if name == "risk_band" and isinstance(spec, list) and not set(spec) <= set(RISK_BANDS):
            raise fail(f"segment {code}: risk_band values must be among {RISK_BANDS}")
        if isinstance(spec, list):
            conditions.append(Condition(name, values=tuple(spec)))
        elif isinstance(spec, Mapping):
            if not spec or set(spec) - {"min", "max"}:
                raise fail(f"segment {code}: range of {name!r} takes `min` and/or `max`")
            low = float(spec["min"]) if "min" in spec else None
            high = float(spec["max"]) if "max" in spec else None
            conditions.append(Condition(name, low=low, high=high))
        else:
            conditions.append(Condition(name, values=(spec,)))
    return When(tuple(conditions), tuple(groups))


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def factor_text(rules: Rules, feature: str, direction: str, value: Any = None) -> str:
    """The phrase for one reason: `direction` is 'low'/'high', or 'value' for categories."""
    entry = rules.phrases.get(feature, {})
    if direction == "value" or ("value" in entry and direction not in entry):
        return str(entry.get("value", "{value}")).replace("{value}", str(value))
    return str(entry.get(direction) or f"{feature}: {direction}")
