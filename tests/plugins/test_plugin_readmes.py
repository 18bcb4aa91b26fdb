"""Every paper plugin's README has a "Fidelity" section: one table that puts each item beside the paper,
the official code and ferbench's default, and covers the six areas where reproductions drift."""

from __future__ import annotations

import re

import pytest

from repo import ROOT

PLUGINS = ROOT / "plugins"
READMES = sorted(PLUGINS.glob("ferbench_*/README.md"))
COLUMNS = ["item", "paper (section, equation, table)", "official code (file:line, where public)", "ferbench default",
           "why it differs"]
#: areas every table covers; an item cell starts with its area ("Architecture: SAL")
AREAS = ["architecture", "losses and weights", "sampling and preprocessing", "optimiser and schedule", "model selection",
         "scale reductions"]


def fidelity_section(text: str) -> str | None:
    """The body of the ``## Fidelity`` section (up to the next heading of level 1 or 2), or None."""
    match = re.search(r"^## Fidelity[^\n]*\n(.*?)(?=^#{1,2} |\Z)", text, flags=re.M | re.S)
    return match.group(1) if match else None


def tables(section: str) -> list[list[list[str]]]:
    """Markdown tables of a section: rows of stripped cells (the separator row left out)."""
    found, current = [], []
    for line in section.splitlines() + [""]:
        if line.lstrip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def check_readme(text: str) -> list[str]:
    """Problems with a README's Fidelity section (empty when it is complete)."""
    section = fidelity_section(text)
    if section is None:
        return ["no '## Fidelity' section"]
    found = tables(section)
    if len(found) != 1:
        return [f"the Fidelity section has {len(found)} tables, expected one"]
    header, *rows = found[0]
    problems = []
    if [c.lower() for c in header] != COLUMNS:
        problems.append(f"header {header} is not {COLUMNS}")
    for row in rows:
        if len(row) != len(COLUMNS) or not all(row):
            problems.append(f"row {row[:1]} does not fill the {len(COLUMNS)} columns (use '—' for nothing)")
    items = [row[0].lower() for row in rows]
    problems += [f"no '{area}' item" for area in AREAS if not any(item.startswith(area) for item in items)]
    return problems


def test_all_five_paper_plugins_have_a_readme():
    assert {p.parent.name for p in READMES} >= {f"ferbench_{p}" for p in ("ifercv", "ceflnet", "sna", "relgan", "recentral3d")}


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_readme_has_a_complete_fidelity_table(readme):
    assert check_readme(readme.read_text(encoding="utf-8")) == []


def test_the_check_fails_on_a_readme_without_the_section_or_an_area():
    header = "| " + " | ".join(COLUMNS) + " |\n|---|---|---|---|---|\n"
    rows = "".join(f"| {area.capitalize()}: x | a | — | b | c |\n" for area in AREAS)
    assert check_readme("# p\n\n## Fidelity\n\n" + header + rows + "\n## Next\n") == []
    assert check_readme("# p\n\n## Deviations\n\ntext\n") == ["no '## Fidelity' section"]
    missing = "".join(f"| {area.capitalize()}: x | a | — | b | c |\n" for area in AREAS[:-1])
    assert check_readme("## Fidelity\n\n" + header + missing) == ["no 'scale reductions' item"]
    assert "does not fill" in check_readme("## Fidelity\n\n" + header + rows + "| Model selection | a | | b | c |\n")[0]
