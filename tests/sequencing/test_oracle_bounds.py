"""The oracle ceiling and the absent-protein floor of the identification benchmark, counted by hand."""

from __future__ import annotations

import io

import pytest

from protlm.sequencing.index import build_index


@pytest.fixture(scope="module")
def ident(benchmark_module):
    return benchmark_module("identification")


def test_ceiling_counts_only_patterns_unique_to_their_own_residues(ident):
    # KC: "GKGCG" is the only window with K _ C; "AKAAA" shares its pattern (K alone) with "GKGGG"
    idx = build_index(io.StringIO(">a\nGKGCGAKAAA\n>b\nGKGGG\n"), decoys=None)
    assert ident.oracle_ceiling(idx, ["GKGCG"], "KC") == 1.0
    assert ident.oracle_ceiling(idx, ["AKAAA"], "KC") == 0.0
    # a pattern that does not occur at all is not identified either
    assert ident.oracle_ceiling(idx, ["CCCCC"], "KC") == 0.0


def test_absent_floor_counts_patterns_held_by_one_other_string(ident):
    idx = build_index(io.StringIO(">a\nGKGCGAKAAA\n>b\nGKGGG\n"), decoys=None)
    # an absent read's residues differ from "GKGCG" but show the same pattern: an oracle takes it for a
    truths = ["AKACA", "AKAAA", "CCCCC", "GKGCG"]
    # AKACA -> one other string (floor); AKAAA -> two strings (ambiguous); CCCCC -> none; GKGCG -> its own
    assert ident.absent_oracle_floor(idx, truths, "KC") == pytest.approx(1 / 4)
    matches = ident.pattern_matches(idx, truths, "KC")
    assert matches == [(True, True, False), (True, False, False), (False, False, False), (True, True, True)]


def test_floor_and_ceiling_follow_the_digest(ident):
    # the pattern K C _ occurs over "KCA" after K in a (a tryptic start) and over "KCG" after A in b (not one)
    idx = build_index(io.StringIO(">a\nAKKCAA\n>b\nAAKCGA\n"), decoys=None)
    assert ident.oracle_ceiling(idx, ["KCA"], "KC") == 0.0
    assert ident.oracle_ceiling(idx, ["KCA"], "KC", digest="trypsin") == 1.0
    assert ident.absent_oracle_floor(idx, ["KCT"], "KC") == 0.0
    assert ident.absent_oracle_floor(idx, ["KCT"], "KC", digest="trypsin") == 1.0
