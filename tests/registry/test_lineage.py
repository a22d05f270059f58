import pytest

from artlineage.registry import RegistryError


def build_chain(registry):
    """d was influenced by c, c by b, b by a; a by d closes a cycle; e influenced by b too."""
    ids = {n: registry.add_artist(n.upper()).id for n in "abcde"}
    registry.add_influence(ids["b"], ids["a"], note="teacher", source_of_claim="artist statement")
    registry.add_influence(ids["c"], ids["b"])
    registry.add_influence(ids["d"], ids["c"], source_of_claim="https://example.org/interview")
    registry.add_influence(ids["a"], ids["d"])  # cycle a -> d -> c -> b -> a
    registry.add_influence(ids["e"], ids["b"])
    return ids


def as_set(nodes):
    return {(n.name, n.depth) for n in nodes}


def test_lineage_depths_and_directions_with_a_cycle(registry):
    ids = build_chain(registry)
    one = registry.lineage("B", depth=1)
    assert as_set(one.ancestors) == {("A", 1)}
    assert as_set(one.descendants) == {("C", 1), ("E", 1)}
    assert one.ancestors[0].note == "teacher" and one.ancestors[0].source_of_claim == "artist statement"
    two = registry.lineage("b", depth=2)
    assert as_set(two.ancestors) == {("A", 1), ("D", 2)}
    assert as_set(two.descendants) == {("C", 1), ("E", 1), ("D", 2)}
    three = registry.lineage(ids["b"], depth=3)
    # the cycle comes back to B and stops there; nodes appear once, at their shortest distance
    assert as_set(three.ancestors) == {("A", 1), ("D", 2), ("C", 3)}
    assert as_set(three.descendants) == {("C", 1), ("E", 1), ("D", 2), ("A", 3)}
    assert {n.name: n.via for n in three.ancestors} == {"A": ids["b"], "D": ids["a"], "C": ids["d"]}
    deep = registry.lineage("b", depth=50)  # terminates on the cycle
    assert len(deep.ancestors) == 3 and not deep.truncated


def test_lineage_edges_are_idempotent_and_checked(registry):
    ids = build_chain(registry)
    registry.add_influence(ids["b"], ids["a"], note="updated")
    assert [n.note for n in registry.lineage("b", depth=1).ancestors] == ["updated"]
    with pytest.raises(RegistryError):
        registry.add_influence(ids["a"], ids["a"])
    with pytest.raises(RegistryError):
        registry.lineage("a", depth=0)
    assert registry.lineage("e", depth=3).descendants == []


def test_work_lineage(registry):
    a = registry.add_artist("Painter")
    study, sketch, final = (registry.add_work(a.id, title=t) for t in ("study", "sketch", "final"))
    registry.add_work_influence(sketch.id, study.id, note="after the study")
    registry.add_work_influence(final.id, sketch.id)
    lin = registry.work_lineage(final.id, depth=3)
    assert as_set(lin.ancestors) == {("sketch", 1), ("study", 2)}
    assert lin.descendants == [] and lin.root_name == "final"
    assert as_set(registry.work_lineage(study.id).descendants) == {("sketch", 1), ("final", 2)}
    assert as_set(registry.work_lineage(study.id, depth=1).descendants) == {("sketch", 1)}
