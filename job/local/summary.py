"""The end-of-run summary `make run` prints: what was loaded, gated, trained and scored."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from etl.warehouse import db


def render(engine: sa.Engine, snapshot: dt.date) -> str:
    params = {"snapshot_date": snapshot}
    with engine.connect() as conn:
        loaded = db.run_sql(conn, "status", "summarize_loaded_rows", params).mappings().one()
        features = db.run_sql(conn, "features", "count_snapshot_rows", params).mappings().one()
    out = [f"== churn job summary for snapshot {snapshot} =="]
    out.append(
        "rows loaded:  market_file {market_file}, market_money {market_money}, "
        "market_time {market_time}, money {money}".format(**loaded)
    )
    out.append(
        "features:     {customers} customers, {active_customers} active 3 months "
        "({active_label_churn} labelled «Снизилась», {active_label_stable} «Прежний уровень»)".format(**features)
    )
    out.append(_gate_lines(engine, snapshot))
    out.append(_model_lines(engine))
    from ml import scoring

    out.append(scoring.render_scored_snapshot(scoring.scored_snapshot(engine, snapshot)))
    out.append(_targeting_lines(engine, snapshot))
    from ml.outcomes import report

    out.append(report.render_outcomes(engine))
    return "\n".join(out)


def _gate_lines(engine: sa.Engine, snapshot: dt.date) -> str:
    with engine.connect() as conn:
        runs = db.run_sql(conn, "dq", "summarize_latest_gates", {"snapshot_date": snapshot}).mappings().all()
    if not runs:
        return "gates:        none run"
    from etl import data_docs

    parts = [
        f"{r['layer']} {'passed' if r['success'] else 'FAILED'} ({r['suites']} suites, "
        f"{r['critical_failed']} critical, {r['warnings_failed']} warnings)"
        for r in runs
    ]
    return "gates:        " + "; ".join(parts) + f"\nData Docs:    {data_docs.data_docs_dir() / 'index.html'}"


def _model_lines(engine: sa.Engine) -> str:
    from ml import registry

    champion = registry.describe_champion(engine)
    if not champion:
        return "champion:     none registered"
    return (
        f"champion:     {champion['model_version']} ({champion['algorithm']}), CV ROC-AUC "
        f"{champion['cv_roc_auc_mean']:.3f} ± {champion['cv_roc_auc_std']:.3f}, Brier {champion['brier_score']:.3f}"
        f"\nmodel card:   {champion['model_card_path']}"
    )


def _targeting_lines(engine: sa.Engine, snapshot: dt.date) -> str:
    """Who gets an offer (mart.targeting_summary): the policy, why, the budget used."""
    with engine.connect() as conn:
        row = db.run_sql(conn, "status", "summarize_targeting", {"snapshot_date": snapshot}).mappings().first()
    if row is None:
        return "offers:       not decided for this snapshot"
    limits = [f"cost {row['budget_max_cost']:g}" if row["budget_max_cost"] is not None else None]
    limits.append(f"{row['budget_max_contacts']} contacts" if row["budget_max_contacts"] is not None else None)
    budget = ", ".join(limit for limit in limits if limit) or "no limit"
    lines = [
        f"offers:       {row['policy']} policy — {row['policy_reason']}",
        f"              {row['contacts']} contacts, cost {row['cost']:g} of the budget ({budget}); "
        f"the rules policy: {row['rules_contacts']} contacts, cost {row['rules_cost']:g}",
    ]
    if row["expected_retained_profit"] is not None:
        lines.append(
            f"              expected retained profit {row['expected_retained_profit']:g} "
            f"(rules policy {row['rules_expected_retained_profit']:g}) (mart.targeting_summary)"
        )
    if row["targeting_card_path"]:
        lines.append(f"targeting card: {row['targeting_card_path']}")
    return "\n".join(lines)
