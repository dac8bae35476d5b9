"""Data Docs pages that work where the warehouse is: no network, no CDN, no JavaScript.

GX's pages take their CSS, JavaScript, icons and logo from CDNs (Bootstrap, jQuery, Font Awesome,
vega), so with no internet they show unstyled text with blank status columns and an empty index
(its table is drawn by a CDN script). Its own HTML, though, already holds every result as static
text. So each page is rewritten once after GX wrote it:
- scripts and external stylesheets go, an owned stylesheet (style.STYLE, through the head
  template that the index shares: templates/_head.html.j2) is inlined instead; nothing
  is fetched from another host (external links keep their text, not the link);
- the status icons get their text (passed / failed / error), collapsed parts stay open (their
  toggles need Bootstrap's JavaScript), "Failed only" still filters, with CSS alone;
- images and icons come from the site's own `static/` folder (GX copies them there), and a
  relative link whose file does not exist (GX links to expectation-suite pages this site never
  builds, and counts one folder too few for dotted suite names) keeps its text, not the link.
Values from the data were HTML-escaped before GX rendered them (escaped.for_data_docs); text
and attributes pass through here unchanged, so they stay escaped. Vega charts (none of our
suites' expectations draws one) would be dropped with the scripts; their numbers are in the text.
The index is written from the results store (etl/data_docs/index.py).
"""

from __future__ import annotations

import html
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from etl.data_docs import render
from etl.data_docs.style import MARKER

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
STATUS_TEXT = {"fa-check-circle": "✔ passed", "fa-times": "✘ failed", "fa-exclamation-triangle": "⚠ error"}
EXTERNAL_CSS = re.compile(r"url\(\s*['\"]?\s*(https?:)?//", re.IGNORECASE)


def make_page_offline(page: Path, site: Path) -> None:
    """Rewrite one page of the site in place (a page rewritten before is left as it is)."""
    text = page.read_text(encoding="utf-8")
    if MARKER not in text:
        page.write_text(offline_html(text, page, site), encoding="utf-8")


def offline_html(text: str, page: Path, site: Path) -> str:
    """The page's HTML without network, scripts or broken links (see the module docstring)."""
    rewriter = _Rewriter(page.parent, site)
    rewriter.feed(text)
    rewriter.close()
    return "".join(rewriter.out)


def is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.scheme or parts.netloc) and parts.scheme not in ("data", "mailto")


def local_target(url: str, folder: Path) -> Path | None:
    """The file a relative URL points to from `folder`; None for in-page anchors and external URLs."""
    parts = urlsplit(url.strip())
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return (folder / unquote(parts.path)).resolve()


class _Rewriter(HTMLParser):
    """Re-emits the page token by token: unchanged tags as GX wrote them, changed ones rebuilt."""

    def __init__(self, folder: Path, site: Path) -> None:
        super().__init__(convert_charrefs=False)  # entities stay as written: escaped stays escaped
        self.folder, self.site = folder, site
        self.out: list[str] = []
        self.skipping: tuple[str, int] | None = None  # (tag, depth) of a dropped element
        self.anchors: list[bool] = []  # per open <a>: was its tag dropped (text kept)?

    # ------------------------------------------------------------------ tokens
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag == self.skipping[0]:
                self.skipping = (tag, self.skipping[1] + 1)
            return
        kept = self._start(tag, dict(attrs))
        if kept is None and tag not in VOID:
            self.skipping = (tag, 1)
        elif kept is not None:
            self.out.append(kept)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.skipping:
            kept = self._start(tag, dict(attrs), closed=True)
            if kept is not None:
                self.out.append(kept)
            if tag == "a":
                self.anchors.pop()

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[0]:
                depth = self.skipping[1] - 1
                self.skipping = (tag, depth) if depth else None
            return
        if tag == "a" and self.anchors and self.anchors.pop():
            return
        if tag == "head":
            self.out.append(render.render(render.HEAD))
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_comment(self, data: str) -> None:
        pass  # GX's template comments say nothing to a reader

    # ------------------------------------------------------------------ rules
    def _start(self, tag: str, attrs: dict[str, str | None], closed: bool = False) -> str | None:
        """The start tag to emit, or None to drop it (its content too, unless it is void or <a>)."""
        if tag in ("script", "style", "footer"):
            return None
        if tag == "link":
            return self._link(attrs, closed)
        if tag == "img":
            source = self._asset(attrs.get("src") or "")
            return None if source is None else _tag(tag, {**_clean(attrs), "src": source}, closed)
        if tag == "a":
            return self._anchor(attrs, closed)
        cleaned = _clean(attrs)
        text = _tag(tag, cleaned, closed) if cleaned != attrs else self.get_starttag_text()
        if tag == "i":
            text += _status_text(attrs)
        return text

    def _link(self, attrs: dict[str, str | None], closed: bool) -> str | None:
        if "stylesheet" in (attrs.get("rel") or "").lower():
            return None
        target = self._asset(attrs.get("href") or "")
        return None if target is None else _tag("link", {**_clean(attrs), "href": target}, closed)

    def _anchor(self, attrs: dict[str, str | None], closed: bool) -> str | None:
        href = attrs.get("href") or ""
        if attrs.get("data-toggle") == "collapse":
            self.anchors.append(True)
            if not closed:
                self.skipping = ("a", 1)  # the toggle's own text ("Show more info...") goes too
                self.anchors.pop()
            return ""
        target = local_target(href, self.folder)
        if is_external(href) or (target is not None and not target.is_file()):
            self.anchors.append(True)
            return ""
        self.anchors.append(False)
        cleaned = _clean(attrs)
        return _tag("a", cleaned, closed) if cleaned != attrs else self.get_starttag_text()

    def _asset(self, url: str) -> str | None:
        """A URL for an image or icon that resolves inside the site, or None when there is none."""
        target = local_target(url, self.folder)
        if target is not None and target.is_file():
            return url
        path = unquote(urlsplit(url).path)
        candidates = [self.site / path[path.index("static/") :]] if "static/" in path else []
        candidates.append(self.site / "static" / "images" / Path(path).name)
        for candidate in candidates:
            if Path(path).name and candidate.is_file():
                return os.path.relpath(candidate, self.folder)
        return None


def _clean(attrs: dict[str, str | None]) -> dict[str, str | None]:
    """Attributes without event handlers (their functions came with the dropped scripts) and
    without styles that fetch from another host."""
    return {
        k: v for k, v in attrs.items() if not k.startswith("on") and not (k == "style" and v and EXTERNAL_CSS.search(v))
    }


def _tag(tag: str, attrs: dict[str, str | None], closed: bool = False) -> str:
    rendered = "".join(f" {k}" if v is None else f' {k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
    return f"<{tag}{rendered}{' /' if closed else ''}>"


def _status_text(attrs: dict[str, str | None]) -> str:
    """The words a status icon stands for (its glyph came from the Font Awesome CDN)."""
    classes = (attrs.get("class") or "").split()
    for icon, text in STATUS_TEXT.items():
        if icon in classes:
            # beside the overview's own "Failed"/"Succeeded" the glyph alone suffices
            return text.split()[0] if attrs.get("aria-hidden") == "true" else text
    return ""
