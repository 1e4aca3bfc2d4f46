"""The README and docs/ hold together: every link resolves, every page is reachable from the
README, and every file of the project they name in code spans exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([A-Za-z0-9_.\-/]+\.(?:py|yaml|toml|md|json|html|png|sh))`")
PROJECT_FOLDERS = ("functions", "shared", "infra", "tests", "bench", "docs", "events", ".ci")
README_MAX_LINES = 200


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {
        _slug(line.lstrip("#"))
        for line in page.read_text().splitlines()
        if re.match(r"#{1,6} ", line)
    }


def _local_links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(page.read_text())
        if not target.startswith(("http://", "https://", "mailto:"))
    ]


def _broken(page: Path) -> list[str]:
    """The page's links to a file that does not exist, or to a heading its page lacks."""
    broken = []
    for target in _local_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in _anchors(linked)
        ):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_of_a_page_resolves(page: Path) -> None:
    assert _broken(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_project_file_a_page_names_exists(page: Path) -> None:
    missing = [
        name
        for name in CODE_SPAN.findall(page.read_text())
        if name.split("/")[0] in PROJECT_FOLDERS and not (ROOT / name).exists()
    ]
    assert missing == []


def test_the_readme_fits_on_a_few_screens_and_links_every_page() -> None:
    readme = ROOT / "README.md"
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in _local_links(readme)}
    assert len(readme.read_text().splitlines()) <= README_MAX_LINES
    assert set(PAGES[1:]) <= linked


def test_the_checker_sees_a_broken_link(tmp_path: Path) -> None:
    # Given a page linking a file that does not exist and a heading that is not there
    page = tmp_path / "page.md"
    page.write_text("# Title\n\nSee [gone](gone.md) and [here](#title) and [nowhere](#nope).\n")

    # Then the first and the last are what it finds
    assert _broken(page) == ["gone.md", "#nope"]
