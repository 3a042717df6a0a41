"""The one known-pair validator (protlm.io.pairs.resolve_pairs) and the pairs-file reader built on it.

Every caller (the weights-free methods, DiffPALM, the pairs-file reader for truth, known and context pairs)
goes through it, so each check is tested here once, and each caller is checked to use it.
"""

from __future__ import annotations

import numpy as np
import pytest

from protlm.errors import PairingInputError
from protlm.io import MSA, PairedFamilies, SpeciesBlock
from protlm.io.pairs import read_pairs_file, resolve_pairs

LEFT_IDS = ["a1", "a2", "b1", "c1"]   # species a, a, b, and c (c only on the left: in no block)
RIGHT_IDS = ["x1", "x2", "y1", "dup", "dup"]
BLOCKS = [SpeciesBlock("a", np.array([0, 1]), np.array([0, 1])), SpeciesBlock("b", np.array([2]), np.array([2]))]


def _resolve(pairs, **kw):
    kw = {"n_left": 4, "n_right": 5, "left_ids": LEFT_IDS, "right_ids": RIGHT_IDS, "blocks": BLOCKS, **kw}
    return resolve_pairs(pairs, **kw)


@pytest.mark.parametrize("pairs, expected", [
    ([(0, 1), (2, 2)], {0: 1, 2: 2}),                       # row indices
    ([("a1", "x2"), ("b1", "y1")], {0: 1, 2: 2}),          # ids
    ({"a2": 0, 2: "y1"}, {1: 0, 2: 2}),                     # a mapping, ids and indices mixed
    ([(np.int64(1), np.int32(1))], {1: 1}),                 # numpy integers are rows
    (None, {}),
])
def test_ids_and_row_indices_are_accepted(pairs, expected):
    assert _resolve(pairs) == expected


@pytest.mark.parametrize("pairs, kw, fragment", [
    ([(4, 0)], {}, "left row 4 is out of range (the left MSA has rows 0..3)"),
    ([(0, -1)], {}, "right row -1 is out of range"),
    ([("zz", "x1")], {}, "id 'zz' is not in the left MSA"),
    ([("a1", "dup")], {}, "id 'dup' occurs more than once in the right MSA"),
    ([(0, 0), (1, 0)], {}, "a sequence appears in two known pairs"),
    ([(0, 0), (0, 1)], {}, "0 or 1 is already in an earlier pair"),
    ([("a1", "y1")], {}, "known pair 'a1' - 'y1' is not inside one species of both inputs (species 'a' and 'b'"),
    ([(3, 1)], {}, "species None and 'a'"),                                  # a row in no block
    ([(0, 0)], {"same_block": False, "what": "context pair"}, "context pair 0 - 0 belongs to species being paired"),
    ([(0,)], {}, "(0,) is not a (left, right) pair"),
    ([("a1", "x1")], {"left_ids": None}, "'a1' is not a row index, and no left ids were given"),
])
def test_bad_pairs_are_refused_with_the_pair_named(pairs, kw, fragment):
    with pytest.raises(PairingInputError) as err:
        _resolve(pairs, **kw)
    assert fragment in str(err.value)


def test_context_pairs_outside_the_blocks_and_pairs_of_context_msas():
    assert _resolve([(3, 3)], same_block=False, what="context pair") == {3: 3}  # rows in no species block
    assert _resolve([(3, 4), ("a1", "y1")], same_block=None) == {3: 4, 0: 2}
    with pytest.raises(PairingInputError, match="species blocks are needed"):
        resolve_pairs([(0, 0)], n_left=1, n_right=1)


def test_pairs_file_names_file_and_line(tmp_path):
    p = tmp_path / "known.tsv"
    p.write_text("left_id\tright_id\n# a comment\n\na1\tx1\nb1\tx2\n")
    with pytest.raises(PairingInputError, match=r"known.tsv: line 5: known pair 'b1' - 'x2' is not inside one species"):
        read_pairs_file(p, left_ids=LEFT_IDS, right_ids=RIGHT_IDS, blocks=BLOCKS, same_block=True, what="known pair")
    p.write_text("a1\tx1\na2\tnope\n")
    with pytest.raises(PairingInputError, match=r"known.tsv: line 2: id 'nope' is not in the right MSA"):
        read_pairs_file(p, left_ids=LEFT_IDS, right_ids=RIGHT_IDS)
    p.write_text("a1\tx1\na1\tx2\n")
    with pytest.raises(PairingInputError, match=r"known.tsv: line 2: .*already in an earlier pair"):
        read_pairs_file(p, left_ids=LEFT_IDS, right_ids=RIGHT_IDS)
    p.write_text("a1 x1\n")
    with pytest.raises(PairingInputError, match=r"known.tsv: line 1: expected 'left_id<TAB>right_id'"):
        read_pairs_file(p, left_ids=LEFT_IDS, right_ids=RIGHT_IDS)
    p.write_text("a2\tx1\nb1\ty1\n")
    assert read_pairs_file(p, left_ids=LEFT_IDS, right_ids=RIGHT_IDS, blocks=BLOCKS, same_block=True) == {1: 0, 2: 2}


def _families():
    left = MSA.from_sequences(["AC", "AD", "AE", "AF"], ids=["a1 OX=1", "a2 OX=1", "b1 OX=2", "o1 OX=9"])
    right = MSA.from_sequences(["KL", "KM", "KN", "KP"], ids=["x1 OX=1", "x2 OX=1", "y1 OX=2", "o2 OX=8"])
    return PairedFamilies.from_msas(left, right, species_key="ox")


def test_every_caller_uses_the_one_validator():
    from protlm.pairing._blocks import blocks_from_paired, resolve_known_pairs
    from protlm.pairing.diffpalm_plan import plan_sub_msas

    pf = _families()
    blocks = blocks_from_paired(pf)
    # weights-free methods: ids and rows
    assert resolve_known_pairs([("a1", "x2"), (2, 2)], blocks, left_ids=pf.left.ids, right_ids=pf.right.ids,
                               n_left=4, n_right=4) == {0: 1, 2: 2}
    # DiffPALM's plan now takes ids too, and refuses a cross-species pair with the same message
    subs = plan_sub_msas(pf, max_depth=8, known_pairs=[("a1", "x2")])
    fixed = [b.fixed for sub in subs for b in sub if b.fixed]
    assert fixed == [((0, 1),)]
    with pytest.raises(PairingInputError, match="known pair 'a1' - 'y1' is not inside one species"):
        plan_sub_msas(pf, max_depth=8, known_pairs=[("a1", "y1")])
    # truth given as a mapping is checked the same way
    with pytest.raises(PairingInputError, match="true pair 0 - 2 is not inside one species"):
        PairedFamilies.from_msas(pf.left, pf.right, species_key=None, truth={0: 2})
    assert PairedFamilies.from_msas(pf.left, pf.right, species_key=None, truth={"a1": "x1"}).truth == {0: 0}


def test_diffpalm_context_pairs_must_lie_outside_the_blocks():
    from protlm.pairing.diffpalm import _check_pairs

    pf = _families()
    assert _check_pairs(pf, None, {"o1": "o2"}) == ({}, {3: 3})
    with pytest.raises(PairingInputError, match="context pair 0 - 0 belongs to species being paired .*known_pairs instead"):
        _check_pairs(pf, None, {0: 0})
