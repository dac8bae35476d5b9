"""The pages this room writes itself, from the Jinja2 templates in templates/ (package data).

Autoescape is on for every template whatever its file name: `select_autoescape(["html", "xml"])`
goes by extension and leaves `.j2` files raw, the very gap through which GX's own pages let values
from the data through (escaped.py). So values reach a template plain and are escaped there, once;
the one thing a template writes unescaped (`|safe`) is this room's own head: page marker and stylesheet.
"""

from __future__ import annotations

from typing import Any

import jinja2

from etl.data_docs.style import MARKER, STYLE

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("etl.data_docs", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a misspelt name fails the build instead of an empty cell
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.globals.update(marker=MARKER, style=STYLE)

HEAD = "_head.html.j2"  # what every page of the site gets before </head>


def render(template: str, **values: Any) -> str:
    return ENVIRONMENT.get_template(template).render(**values)
