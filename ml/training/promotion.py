"""Step 4, the apply_promotion_gate task: apply the verdict recorded with the challenger.

Promotion retires the old champion in the same transaction (`registry.promote`). A verdict is
applied only against the champion it was reached against; a retry of a model that is no longer
a challenger changes nothing and returns its row.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Mapping

from ml import registry
from ml.training import registration

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)


def _apply_verdict(engine: sa.Engine, version: str, decision: Mapping[str, Any]) -> None:
    """Promote or reject the challenger `version` as `decision` says, unless it is stale."""
    current = registry.get_champion(engine)
    current_version = current["model_version"] if current else None
    if decision["promote"] and current_version != decision.get("champion_version"):
        # Another run changed the champion after this one compared: the verdict is stale.
        log.warning(
            "%s was compared with champion %s but the champion is now %s: rejecting; the next retrain compares again",
            version,
            decision.get("champion_version"),
            current_version,
        )
        registry.reject(engine, version)
    elif decision["promote"]:
        retired = registry.promote(engine, version, decision.get("champion_version"))
        log.info("%s is the champion now (retired: %s)", version, retired or "none")
    else:
        registry.reject(engine, version)
        log.info("%s rejected (%s); champion stays %s", version, decision["reason"], current_version)


def apply_gate(engine: sa.Engine, registered: Mapping[str, Any], run: str | None = None) -> dict[str, Any]:
    """Apply the registered verdict: promote (old champion retired, one transaction) or reject."""
    version = registered["model_version"]
    row = registry.get_model(engine, version)
    if row is None:
        raise LookupError(f"no model {version} in ml.model_registry")
    if row["status"] == "challenger":
        _apply_verdict(engine, version, row["decision"])
        row = registry.get_model(engine, version)
    outcome = registration.registered_outcome(row)
    outcome["champion"] = registry.describe_champion(engine)
    log.info("model card of %s: %s", version, outcome["model_card_path"])
    return outcome
