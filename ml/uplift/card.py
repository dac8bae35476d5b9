"""The targeting card: one self-contained HTML page per uplift training run, beside the model
cards (<REPORTS_DIR>/targeting_cards/<model_version>.html), so a marketer can see what the uplift
model learned and why its policy was or was not put to use: the verdict, the policies compared
off-policy at the budget, the budget used, Qini curves against the rules' ranking and random
targeting, uplift by decile and the features the uplift depends on.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import jinja2

    from ml.segments import Rules
    from ml.uplift.training import Verdict

TEMPLATE = "targeting_card.html.j2"
SECTIONS = {  # the card's headings (per offer family: deciles and drivers)
    "verdict": "Verdict",
    "policies": "Policy comparison (off-policy, doubly robust, on the held-out customers)",
    "budget": "Budget used",
    "deciles": "Uplift by decile",
    "drivers": "Features the uplift depends on",
}
TITLES = {
    "qini": "Uplift curve: customers kept from «Снизилась» per customer, best-ranked first (held-out customers)",
    "deciles": "Observed uplift by decile of the estimated uplift (held-out customers, doubly robust)",
}


def card_path_for(model_version: str) -> Path:
    from etl.warehouse import settings

    folder = settings.reports_dir() / "targeting_cards"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{model_version}.html"


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    import jinja2

    from ml.model_card import TEMPLATES

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return environment.get_template(TEMPLATE)


def render(model_version: str, snapshot: dt.date, verdict: Verdict, rules: Rules) -> str:
    """The card's HTML text."""
    m = verdict.metrics
    money = "{:,.1f}".format
    interval = lambda e: f"{money(e['value'])} [{money(e['low'])}, {money(e['high'])}]"  # noqa: E731
    policies = [
        ("uplift policy", m["uplift_contacts"], money(m["uplift_cost"]), interval(m["uplift_value"])),
        ("rules policy", m["rules_contacts"], money(m["rules_cost"]), interval(m["rules_value"])),
        ("gain of uplift over rules", "", "", interval(m["gain"])),
    ]
    if "versus_champion" in m:
        policies.append(
            (f"gain over the champion {m['versus_champion']['champion']}", "", "", interval(m["versus_champion"]))
        )
    budget = [
        (
            "budget per score date",
            _limit(rules.targeting.budget.max_cost, money),
            _limit(rules.targeting.budget.max_contacts, str),
        ),
        (
            "budget for the held-out customers",
            _limit(m["budget_max_cost"], money),
            _limit(m["budget_max_contacts"], money),
        ),
        ("used by the uplift policy", money(m["uplift_cost"]), str(m["uplift_contacts"])),
        ("used by the rules policy", money(m["rules_cost"]), str(m["rules_contacts"])),
    ]
    families = [_family(name, figures) for name, figures in m["families"].items()]
    overview = [
        ("model version", model_version),
        ("trained for snapshot", snapshot.isoformat()),
        ("learner", "doubly robust meta-learner over histogram gradient boosting (ml/uplift/learners.py)"),
        ("settled experiment rows", ", ".join(f"{k}: {v}" for k, v in m["settled_rows"].items())),
        ("held-out customers (evaluation)", str(m["evaluation_rows"])),
        ("horizon", f"{rules.targeting.horizon_months} months of profit per kept customer"),
        ("exploration slice", f"{rules.targeting.exploration_share:.0%} of every score date"),
    ]
    return _template().render(
        model_version=model_version,
        verdict=verdict.reason,
        use_uplift=verdict.use_uplift,
        overview=overview,
        policies=policies,
        budget=budget,
        families=families,
        titles=TITLES,
        sections=SECTIONS,
    )


def write_card(model_version: str, snapshot: dt.date, verdict: Verdict, rules: Rules) -> Path:
    path = card_path_for(model_version)
    path.write_text(render(model_version, snapshot, verdict, rules), encoding="utf-8")
    return path


def _limit(value: Any, fmt) -> str:
    return "no limit" if value is None else fmt(value)


def _family(name: str, figures: Mapping[str, Any]) -> dict[str, Any]:
    from ml.uplift import card_plots

    q = figures["qini"]
    return {
        "name": name,
        "customers": figures["customers"],
        "ranking": [
            ("uplift model", f"{q['value']:.4f} [{q['low']:.4f}, {q['high']:.4f}]"),
            (
                "rules (riskiest first)",
                f"{figures['qini_rules']['value']:.4f} [{figures['qini_rules']['low']:.4f}, {figures['qini_rules']['high']:.4f}]",
            ),
            ("random targeting", "0 (by definition)"),
        ],
        "auuc": f"{figures['auuc']['value']:.4f} [{figures['auuc']['low']:.4f}, {figures['auuc']['high']:.4f}] (random: {figures['auuc_random']:.4f})",
        "deciles": [
            (d["decile"], d["customers"], f"{d['predicted']:+.3f}", f"{d['observed']:+.3f}") for d in figures["deciles"]
        ],
        "drivers": [(d["feature"], f"{d['mean_abs_change']:.4f}") for d in figures["drivers"]],
        "plots": card_plots.plots(figures),
    }
