"""Every plugin's reported rows: resolved through the registry, and one label per distinct paper row."""

from __future__ import annotations

import collections

from ferbench.plugins import Registry

PAPER_PLUGINS = ("ifercv", "ceflnet", "sna", "relgan", "recentral3d")


def test_every_reported_row_resolves_through_the_registry():
    registry = Registry()
    rows = registry.reported_results()
    assert registry.reported_problems == []
    papers = {r.paper for r in rows}
    assert set(PAPER_PLUGINS) <= papers
    for r in rows:
        if r.paper in PAPER_PLUGINS:
            # components (and options) as a run would choose them, not a hand-written label
            assert r.components, f"{r.paper} {r.method} ({r.source}) gives a literal combination, not components"
            assert r.combination.count("+") >= 4 and r.combination.split("+")[0]


def label_clashes(rows) -> list[str]:
    """Rows of one paper, source (table), dataset and metric that share a label without a protocol to tell them apart."""
    groups: dict[tuple, list] = collections.defaultdict(list)
    for r in rows:
        groups[(r.paper, r.source, r.dataset, r.metric, r.combination)].append(r)
    return [
        f"{key[0]} {key[1]} {key[2]} {key[3]}: {[r.method for r in group]} share '{key[4]}'"
        for key, group in groups.items()
        if len({r.protocol for r in group}) < len(group)
    ]


def test_no_two_rows_of_one_table_and_dataset_share_a_label_unless_their_protocols_differ():
    """Two rows may share a label only when their protocols differ. (The same row in two metrics,
    WAR and UAR, is one row: the metric is part of the key.)"""
    assert label_clashes(Registry().reported_results()) == []


def test_the_check_catches_a_clash():
    """The ifercv rows that once shared one label (97.44 vs 98.38 vs 97.16) now differ; the old labels would clash."""
    import dataclasses

    rows = [r for r in Registry().reported_results() if r.paper == "ifercv" and r.dataset == "ckplus"]
    labels = {r.value: r.combination for r in rows}
    assert len({labels[97.44], labels[98.38], labels[97.16]}) == 3
    assert "independence=hsic" in labels[97.44] and "reconstruction=False" in labels[97.16]
    old = [dataclasses.replace(r, combination="residual+ifercv-cnn+lstm+ifercv+none") for r in rows if r.value != 97.85]
    assert len(label_clashes(old)) == 1
    assert label_clashes([dataclasses.replace(r, protocol=f"p{i}") for i, r in enumerate(old)]) == []
