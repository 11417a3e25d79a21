"""docs/domain.md shows the vocabulary and sort keys the code actually uses."""

import re
from pathlib import Path

import pytest

from orchestrator.domain.versioning import semver_sort_key
from orchestrator.domain.vocabulary import EVENT_DEFINITIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "domain.md").read_text(encoding="utf-8")


def table_rows(heading: str) -> list[list[str]]:
    """Cells of the first table after the line that starts with ``heading``."""
    lines = DOC[DOC.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def unquote(cell: str) -> str:
    return re.sub(r"`|operation ", "", cell)


def test_vocabulary_table_matches_the_event_definitions():
    rows = table_rows("| Concept |")
    documented = [(unquote(r[1]), unquote(r[2]), unquote(r[3]), int(r[4]), r[5]) for r in rows]

    assert documented == [(str(d.name), str(d.cli_event or d.cli_operation), str(d.selection_event), d.score, d.title)
                          for d in EVENT_DEFINITIONS]


@pytest.mark.parametrize("row", table_rows("| Version | Sort key |"))
def test_sort_key_examples_are_what_the_code_produces(row):
    assert semver_sort_key(unquote(row[0])) == unquote(row[1])
