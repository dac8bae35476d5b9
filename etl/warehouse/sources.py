"""The four CSV exports: file names, CSV headers and the raw columns they land in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["int", "float", "text"]


@dataclass(frozen=True)
class Column:
    header: str  # as in the CSV export
    name: str  # raw table column
    kind: Kind
    nullable: bool = False


@dataclass(frozen=True)
class Source:
    file_name: str
    table: str  # raw table name (schema raw)
    columns: tuple[Column, ...]
    delimiter: str = ","  # the export's own separator (the loader also accepts the other one)

    def by_header(self) -> dict[str, Column]:
        return {c.header: c for c in self.columns}


MARKET_FILE = Source(
    "market_file.csv",
    "market_file",
    (
        Column("id", "customer_id", "int"),
        Column("Покупательская активность", "activity", "text", nullable=True),
        Column("Тип сервиса", "service_type", "text"),
        Column("Разрешить сообщать", "allow_messages", "text"),
        Column("Маркет_актив_6_мес", "marketing_6m", "float"),
        Column("Маркет_актив_тек_мес", "marketing_current_month", "int"),
        Column("Длительность", "tenure_days", "int"),
        Column("Акционные_покупки", "promo_share", "float"),
        Column("Популярная_категория", "popular_category", "text"),
        Column("Средний_просмотр_категорий_за_визит", "avg_categories_per_visit", "int"),
        Column("Неоплаченные_продукты_штук_квартал", "unpaid_items_quarter", "int"),
        Column("Ошибка_сервиса", "service_errors", "int"),
        Column("Страниц_за_визит", "pages_per_visit", "int"),
    ),
)
MARKET_MONEY = Source(
    "market_money.csv",
    "market_money",
    (Column("id", "customer_id", "int"), Column("Период", "period", "text"), Column("Выручка", "revenue", "float")),
)
MARKET_TIME = Source(
    "market_time.csv",
    "market_time",
    (Column("id", "customer_id", "int"), Column("Период", "period", "text"), Column("минут", "minutes", "int")),
)
MONEY = Source(
    "money.csv",
    "money",
    (Column("id", "customer_id", "int"), Column("Прибыль", "profit", "float")),
    delimiter=";",  # with decimal commas
)

SOURCES: tuple[Source, ...] = (MARKET_FILE, MARKET_MONEY, MARKET_TIME, MONEY)
