"""notebooks/glossary.md (issue 12): every term the course leans on, short, anchored, linked.

The glossary is product like the notebooks: each term has an anchor the notebooks can link to,
each definition is short and points at the notebook that teaches it, and every link resolves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
GLOSSARY = NOTEBOOKS / "glossary.md"
ANCHOR = re.compile(r'^<a id="([a-z0-9-]+)"></a>$', re.MULTILINE)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
TO_GLOSSARY = re.compile(r"\]\(glossary\.md(#[^)\s]*)?\)")
#: The terms issue 12 asks for, and the ones the notebooks use without defining them.
REQUIRED = ("sidecar", "component", "state-store", "key", "etag", "first-write", "last-write",
            "consistency", "transaction", "ttl", "idempotency", "app-id", "bulk", "grpc", "sdk")
TAUGHT = re.compile(r"(Taught|Introduced|First seen) in\s.*\]\(\d\d-[a-z0-9-]+\.ipynb\)", re.DOTALL)


def entries() -> dict[str, str]:
    """Anchor -> the entry's text (its heading and paragraph)."""
    text = GLOSSARY.read_text(encoding="utf-8")
    marks = list(ANCHOR.finditer(text))
    return {m.group(1): text[m.end():(marks[i + 1].start() if i + 1 < len(marks) else None)]
            for i, m in enumerate(marks)}


def test_every_required_term_has_one_anchor() -> None:
    anchors = ANCHOR.findall(GLOSSARY.read_text(encoding="utf-8"))
    assert len(anchors) == len(set(anchors)), "one anchor per term"
    assert set(REQUIRED) <= set(anchors)
    assert anchors == sorted(anchors), "alphabetical, so a learner finds a word quickly"


@pytest.mark.parametrize("anchor", sorted(entries()))
def test_each_entry_is_short_and_names_its_notebook(anchor: str) -> None:
    entry = entries()[anchor].strip()
    assert entry.startswith("## "), "a heading right under the anchor"
    body = entry.split("\n", 1)[1]
    taught = TAUGHT.search(body)
    assert taught, f"{anchor}: say which notebook teaches it, with a link"
    definition = body[:taught.start()]
    sentences = re.findall(r"[.!?](?=\s+[A-Z`\"(]|\s*$)", definition.strip())
    assert 1 <= len(sentences) <= 3, f"{anchor}: {len(sentences)} sentences"


def test_every_link_in_the_glossary_resolves() -> None:
    anchors = set(entries())
    for target in LINK.findall(GLOSSARY.read_text(encoding="utf-8")):
        if target.startswith("#"):
            assert target[1:] in anchors, f"no anchor {target}"
        else:
            assert not re.match(r"[a-z]+:", target), f"{target}: keep the glossary offline"
            assert (NOTEBOOKS / target).is_file(), f"broken link {target}"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")),
                         ids=lambda p: p.name)
def test_links_from_notebooks_to_the_glossary_resolve(path: Path) -> None:
    anchors = set(entries())
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        text = "".join(cell["source"])
        for fragment in TO_GLOSSARY.findall(text):
            assert not fragment or fragment[1:] in anchors, f"no glossary anchor {fragment}"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")),
                         ids=lambda p: p.stem)
def test_every_notebook_links_to_the_glossary_from_its_top(path: Path) -> None:
    first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    assert TO_GLOSSARY.search("".join(first["source"])), "the first cell links the glossary"
