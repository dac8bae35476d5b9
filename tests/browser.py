"""A real headless Chromium for tests that look at the HTML reports the way a person would.

Why this way: the machines that run the tests have no system browser and no root. Debian 12's
`chromium-headless-shell` and the shared libraries this machine lacks are fetched with
`apt-get download` (private apt lists and cache, no lock, nothing installed), unpacked with
`dpkg-deb -x` into `<repo>/.local/browser` (git-ignored), and started through a wrapper that sets
LD_LIBRARY_PATH and a fontconfig file. The first call downloads (~100 MB of packages); later calls
reuse the folder. `BrowserUnavailable` says why it could not be provisioned (no apt-get, no network).

Pages are opened with every external host unresolvable, so a page that still needs the network
shows that in its DOM, and the net log of each page lists every URL the browser requested.
"""

from __future__ import annotations

import fcntl
import functools
import getpass
import html
import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSER_DIR = ROOT / ".local" / "browser"
READY = ".ready"  # written last: its presence means the folder is complete
EXTRA_PACKAGES = ("fonts-dejavu-core", "fontconfig-config", "libatomic1")  # text needs a font
FLAGS = (
    "--no-sandbox",  # no user namespaces in the test containers
    "--virtual-time-budget=5000",  # let scripts and late loads finish before the DOM is dumped
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",  # offline: no external host resolves
)


class BrowserUnavailable(RuntimeError):
    """The browser could not be provisioned on this machine; the message says why."""


def chromium(folder: Path = BROWSER_DIR) -> Path:
    """The wrapper that starts the provisioned browser, downloading it on first use."""
    return _provisioned(folder.resolve())


@functools.cache
def _provisioned(folder: Path) -> Path:
    wrapper = folder / "chromium"
    if (folder / READY).is_file() and wrapper.is_file():
        return wrapper
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be downloading right now
        if not (folder / READY).is_file():
            _download(folder)
            _write_wrapper(folder)
            version = _run([str(wrapper), "--version"], "start the browser").strip()
            (folder / READY).write_text(version + "\n", encoding="utf-8")
    return wrapper


def _run(command: list[str], what: str, cwd: Path | None = None, timeout: int = 900) -> str:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BrowserUnavailable(f"could not {what}: {error}") from error
    if done.returncode != 0:
        raise BrowserUnavailable(f"could not {what} ({' '.join(command[:3])} …): {done.stderr.strip()[-600:]}")
    return done.stdout


def _download(folder: Path) -> None:
    """chromium-headless-shell and the libraries this machine does not have, unpacked into folder/root."""
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise BrowserUnavailable("apt-get and dpkg-deb are needed to fetch the browser (Debian/Ubuntu)")
    shutil.rmtree(folder, ignore_errors=True)
    work = folder / "download"
    for sub in ("lists/partial", "cache/archives/partial", "debs"):
        (work / sub).mkdir(parents=True)
    apt = [
        "-qq",
        "-o",
        f"Dir::State::Lists={work / 'lists'}",
        "-o",
        f"Dir::Cache={work / 'cache'}",
        "-o",
        "Debug::NoLocking=1",
        "-o",
        f"APT::Sandbox::User={_user()}",
    ]
    _run(["apt-get", *apt, "update"], "update the package lists (network?)")
    depends = _run(["apt-cache", *apt, "depends", "chromium-headless-shell"], "read the browser's dependencies")
    # its runtime libraries, not chromium-common's x11-utils/xdg-utils (they pull in mesa and llvm)
    libraries = [
        line.split()[1]
        for line in depends.splitlines()
        if line.strip().startswith("Depends:") and not line.split()[1].startswith("chromium")
    ]
    plan = _run(
        ["apt-get", *apt, "-s", "--no-install-recommends", "install", *libraries, *EXTRA_PACKAGES],
        "work out the missing libraries",
    )
    missing = [line.split()[1] for line in plan.splitlines() if line.startswith("Inst ")]
    debs = work / "debs"
    _run(
        ["apt-get", *apt, "download", "chromium-headless-shell", "chromium-common", *missing],
        "download the browser packages",
        cwd=debs,
    )
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg-deb", "-x", str(deb), str(folder / "root")], f"unpack {deb.name}")
    shutil.rmtree(work)


def _user() -> str:
    """Who apt runs its downloads as: this user (not _apt, which cannot write into our folder)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "root"


def _write_wrapper(folder: Path) -> None:
    root = folder / "root"
    (folder / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>/usr/share/fonts</dir><dir>{root}/usr/share/fonts</dir>"
        f"<cachedir>{folder}/fontcache</cachedir>"
        f'<include ignore_missing="yes">{root}/etc/fonts/conf.d</include></fontconfig>\n',
        encoding="utf-8",
    )
    libs = ":".join(
        str(root / p)
        for p in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu/pulseaudio")
    )
    wrapper = folder / "chromium"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'export LD_LIBRARY_PATH="{libs}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"\n'
        f'export FONTCONFIG_FILE="${{FONTCONFIG_FILE:-{folder}/fonts.conf}}"\n'
        f'exec "{root}/usr/lib/chromium/chromium-headless-shell" "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)


# Opens the page in a frame and writes what a reader sees of it (innerText: rendered text, none
# of what CSS hides) into this page's DOM, which --dump-dom then prints.
VISIBLE_TEXT_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<pre id="visible-text">(page did not load)</pre>
<iframe id="page" src="{uri}" style="width:1400px;height:900px"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var doc = this.contentDocument;
  document.getElementById("visible-text").textContent = doc ? doc.body.innerText : "(no access to the page)";
}});
</script></body></html>"""


class Renderer:
    """`render(path)` → the page's DOM after its scripts ran; `render.requested(path)` → every URL
    the browser asked for while loading it (from Chromium's net log); `render.visible_text(path)`
    → the text a reader sees (what CSS hides is not in it)."""

    def __init__(self, browser: Path) -> None:
        self.browser = browser

    def __call__(self, page: Path) -> str:
        return self.open(page)[0]

    def requested(self, page: Path) -> list[str]:
        return self.open(page)[1]

    def open(self, page: Path) -> tuple[str, list[str]]:
        """The DOM and the requested URLs of one load of the page."""
        return self._open(Path(page).resolve().as_uri())

    def visible_text(self, page: Path) -> str:
        with tempfile.TemporaryDirectory(prefix="browser-probe-") as folder:
            probe = Path(folder) / "probe.html"
            probe.write_text(
                VISIBLE_TEXT_PROBE.format(uri=html.escape(Path(page).resolve().as_uri())), encoding="utf-8"
            )
            dom = self._open(probe.as_uri(), "--allow-file-access-from-files")[0]
        found = re.search(r'<pre id="visible-text">(.*?)</pre>', dom, re.DOTALL)
        return html.unescape(found.group(1)) if found else ""

    def _open(self, uri: str, *extra: str) -> tuple[str, list[str]]:
        with tempfile.TemporaryDirectory(prefix="browser-profile-") as profile:
            net_log = Path(profile) / "net-log.json"
            command = [
                str(self.browser),
                *FLAGS,
                *extra,
                f"--user-data-dir={profile}",
                f"--log-net-log={net_log}",
                "--dump-dom",
                uri,
            ]
            dom = _run(command, f"render {uri}", timeout=120)
            return dom, _requested_urls(net_log)


def _requested_urls(net_log: Path) -> list[str]:
    """URLs of the requests in a net log (file:// ones included); [] when the log is missing."""
    if not net_log.is_file():
        return []
    text = net_log.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",")
    if not text.endswith("}"):  # the browser may exit before it closes the JSON
        text = text.rstrip(",\n") + "]}"
    try:
        events = json.loads(text).get("events", [])
    except json.JSONDecodeError:
        return []
    urls = [e.get("params", {}).get("url") for e in events if isinstance(e.get("params"), dict)]
    return sorted({u for u in urls if u})


def provisioned_renderer() -> Renderer:
    """The renderer with the provisioned browser (downloads it on first use)."""
    return Renderer(chromium())


class Dom(HTMLParser):
    """A rendered DOM read back: `elements` (tag, attributes) in order, and `tables`, each a list of
    rows of cell texts (a nested table's text also counts for the cell around it)."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.tables: list[list[list[str]]] = []
        self._open: list[list[list[str]]] = []  # tables being read, innermost last
        self.feed(dom)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "table":
            self._open.append([])
        elif tag == "tr" and self._open:
            self._open[-1].append([])
        elif tag in ("td", "th") and self._open and self._open[-1]:
            self._open[-1][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._open:
            self.tables.append(self._open.pop())

    def handle_data(self, data: str) -> None:
        for table in self._open:
            if table and table[-1]:
                table[-1][-1] += data

    def attributes(self, tag: str, name: str) -> list[str]:
        return [attrs[name] for t, attrs in self.elements if t == tag and name in attrs]
