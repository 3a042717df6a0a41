"""The batch UniProt header parser (one regular expression per batch) against the careful one."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import protlm.io.uniprot as uniprot
from protlm.errors import FastaFormatError
from protlm.io import iter_uniprot, read_fasta
from protlm.io.fasta import BatchError
from protlm.io.uniprot import _headers_batch, parse_uniprot_header

CANONICAL = [
    "sp|P0A7B8|HSLV_ECOLI ATP-dependent protease subunit HslV OS=Escherichia coli (strain K12) OX=83333 GN=hslV PE=1 SV=1",
    "tr|W0FSK4|W0FSK4_9FLAV Genome polyprotein (Fragment) OS=Dengue virus 3 PE=4 SV=1 Split=0 ",
    "tr|Q1|Q1_9X Some protein, partial OS=Virus X (strain 1) OX=12 PE=4 SV=1",
    "sp|P1|A_B Name OS=Homo sapiens GN=A PE=1 SV=3",
]

EDGE = [
    "sp|P1|A_B",  # no space
    "sp|P1|A_B ",  # trailing space, nothing else
    "sp|P1|A_B Name",  # no keys
    "sp|P1|",  # empty entry name
    "sp|P1|A_B Name GN=x OS=Homo OX=9",  # keys out of order
    "sp|P1|A_B Name OS=Homo sapiens OX=9606 GN=A PE=1 SV=3 Split=0 more",
    "sp|P1|A_B Prot OS=Virus a=b OX=1 PE=1 SV=1",  # '=' inside OS
    "sp|P1|A_B Prot OS=Foo OS=Bar OX=1 PE=1 SV=1",  # ' OS=' lookalike inside OS
    "sp|P1|A_B Prot OX=5 stuff OS=Homo PE=1 SV=1",  # ' OX=' inside the protein name
    "sp|P1|A_B Prot a=b OS=Homo PE=1 SV=1",  # '=' inside the protein name
    "sp|P1|A_B Prot OS=Homo OX=1 GN=a=b PE=1 SV=1",  # '=' inside GN
    "sp|P1|A_B Prot OS=Homo PE=1 SV=1",  # no OX, no GN
    "sp|P1|A_B Prot OS=Homo GN=g PE=1 SV=1",  # GN without OX
    "sp|P1|A_B Prot OS=Homo OX=1 GN= PE=1 SV=1",  # empty GN: '' not None
    "sp|P1|A_B Prot OS= OX=1 PE=1 SV=1",  # empty OS
    "sp|P1|A_B Prot OS=Homo OX= PE=1 SV=1",  # empty OX
    "sp|P1|A_B Prot OS=Homo OX=1 GN=x",  # no PE, no SV
    "sp|P1|A_B Prot OS=Homo OX=1 PE=1",  # no SV
    "sp|P1|A_B Prot OS=Homo OX=1 SV=2",  # no PE
    "sp|P1|A_B  Prot  OS=Homo  OX=1  GN=x  PE=1  SV=1  ",  # double spaces, trailing spaces
    "sp|P1|A_B Prot OS=Homo OX=1 PE=1 SV=1   ",  # trailing spaces
    "sp|P1|A_B Prot OS=Homo PE=1 SV=1 OX=5",  # absent key after SV
    "sp|P1|A_B Prot OS=Homo OX=2 PE=1 SV=1 GN=zz",  # absent key after SV
    "sp|P1|A_B Prot OS=Homo OX=2 PE=1 SV=1 OS=again PE=7",  # present keys again after SV
    "sp|P1|A_B Prot OS=Homo OX=abc PE=1 SV=1",  # not numbers
    "sp|P1|A_B Prot OS=Homo OX=12a PE=x SV=1a",
    "sp|P1|A_B Prot OS=Homo OX=1 PE=1 SV=1Split=0",
    "sp|P1|A_B Prot OS=Homo OX=007 PE=01 SV=0002",  # leading zeros
    "sp|P1|A_B Prot OS=Homo OX=123456789012345678901234567890 PE=1 SV=1",  # beyond int64
    "sp|P1|A_B Prot OS=Homo OX=\u0663\u0664 PE=\u0661 SV=1",  # Arabic-Indic digits
    "sp|P1|A_B \u00a0Prot\u00a0 OS=Caf\u00e9 virus PE=1 SV=1",  # non-ASCII, Unicode spaces
    "sp|P1|A_B Prot\r OS=Homo\r PE=1 SV=1\r",  # stray carriage returns
    "sp|P1|A_B Prot\tX OS=Homo PE=1 SV=1",  # tab
    "sp|P1|A_B Prot OS=Homo\tsapiens OX=1 PE=1 SV=1",
    ">sp|P1|A_B Prot OS=Homo PE=1 SV=1",  # '>' left in the description
    "sp|A B|C_D Prot OS=Homo PE=1 SV=1",  # space in the accession
    "sp|A OS=x|E Prot OS=Homo PE=1 SV=1",  # key lookalike in the accession
    "sp|P1|A|B Prot OS=Homo PE=1 SV=1",  # '|' in the entry name
    "sp|P1|A_B Prot|x OS=Ho|mo GN=a|b PE=1 SV=1",  # '|' in values
    "sp|P1|A_B OS=Homo PE=1 SV=1",  # no protein name
    "sp|P1|A_B   OS=Homo PE=1 SV=1",  # blank protein name
    "sp|P1|A_B Prot OS=Homo OX=1 GN=x PE=1 SV=1 Split=0 ",
]

BAD = ["UniRef90_X n=1 Tax=Homo", "SP|P1|A_B Prot OS=Homo PE=1 SV=1", "sp||A_B x", "sp|P1", "", "xx|P1|A_B P OS=H PE=1 SV=1"]


def _careful(descs):
    return [parse_uniprot_header(d) for d in descs]


def _assert_same(descs):
    got = _headers_batch(descs)
    want = _careful(descs)
    for d, g, w in zip(descs, got, want):
        assert g == w, d
        assert [type(x) for x in g] == [type(x) for x in w], d
    assert len(got) == len(want)


@pytest.mark.parametrize("name", ["uniprot_sample_20k.fasta.gz", "ecoli_k12_UP000000625.fasta"])
def test_real_files_every_record(data, monkeypatch, name):
    path = data("proteomes/" + name)
    descs = [r.description for r in read_fasta(path)]
    want = _careful(descs)
    calls = []
    careful = uniprot.parse_uniprot_header
    monkeypatch.setattr(uniprot, "parse_uniprot_header", lambda d: calls.append(d) or careful(d))
    got = [r.header for r in iter_uniprot(path)]
    assert got == want
    assert [[type(x) for x in h] for h in got] == [[type(x) for x in h] for h in want]
    # nearly every header is parsed by the batch expression; the others hold '=' in a name
    # (the sample: 68, such as 'OS=Streptococcus anginosus SK52 = DSM 20563')
    assert len(calls) <= len(descs) // 200
    for d in calls:
        for key in (" OS=", " OX=", " GN=", " PE=", " SV=", " Split=0"):
            d = d.replace(key, " ", 1)
        assert "=" in d


def test_edge_cases_alone_and_mixed():
    for d in EDGE + CANONICAL:
        _assert_same([d])
    _assert_same(EDGE)
    # each odd header between canonical ones (a delimiter missing on one line must not pair with the next)
    mixed = [x for d in EDGE for x in (CANONICAL[0], d, CANONICAL[1], CANONICAL[3])]
    _assert_same(mixed)
    _assert_same(list(reversed(mixed)))


def test_edge_cases_need_the_careful_parser(monkeypatch):
    calls = []
    careful = uniprot.parse_uniprot_header
    monkeypatch.setattr(uniprot, "parse_uniprot_header", lambda d: calls.append(d) or careful(d))
    _headers_batch(CANONICAL + ["sp|P1|A_B Prot OS=Foo OS=Bar OX=1 PE=1 SV=1", "sp|P1|A_B Name"])
    assert calls == ["sp|P1|A_B Prot OS=Foo OS=Bar OX=1 PE=1 SV=1", "sp|P1|A_B Name"]


def test_values_that_look_like_keys():
    h = _headers_batch(["sp|P1|A_B Prot OS=Foo OS=Bar OX=1 PE=1 SV=1"])[0]
    assert h.organism == "Foo OS=Bar" and h.taxid == 1
    h = _headers_batch(["sp|P1|A_B Prot OS=Homo PE=1 SV=1 OX=5", CANONICAL[0]])[0]
    assert h == parse_uniprot_header("sp|P1|A_B Prot OS=Homo PE=1 SV=1 OX=5")
    h = _headers_batch(["sp|P1|A_B Prot OS=Homo OX=1 GN= PE=1 SV=1"])[0]
    assert h.gene == "" and h.taxid == 1


def test_bad_header_reported_with_its_index():
    for bad in BAD:
        batch = CANONICAL + [bad] + CANONICAL
        with pytest.raises(BatchError) as err:
            _headers_batch(batch)
        assert err.value.k == len(CANONICAL), bad
        assert isinstance(err.value.error, FastaFormatError)


def test_iter_uniprot_crlf_and_errors():
    descs = CANONICAL + EDGE[:10]
    text = "".join(f">{d}\r\nMKV\r\nLA\r\n" for d in descs)
    recs = list(iter_uniprot(io.StringIO(text)))
    assert [r.header for r in recs] == _careful([d.rstrip("\r") for d in descs])
    assert {r.sequence for r in recs} == {"MKVLA"}
    text = "".join(f">{d}\nMKV\n" for d in CANONICAL * 50) + ">UniRef90_X n=1\nMK\n"
    with pytest.raises(FastaFormatError) as err:
        list(iter_uniprot(io.StringIO(text)))
    assert (err.value.record, err.value.line) == (200, 401)


_WORDS = ["Homo", "sapiens", "(strain", "K12)", "kinase", "Protein", "coli"] * 12 + [
    "a=b", "OS=x", "OX=5", "GN=g", "PE=3", "SV=2", "=", "|", "", " ", "\u00a0", "\r", "\t", "-",
]
_NUMBERS = ["1", "4", "42", "9606", "83333"] * 12 + ["", "007", "x", "1a", "\u0663", " 1", "1 ", "99999999999999999999"]
_SEPS = [" "] * 60 + ["  ", "", "\t"]


@st.composite
def _headers(draw):
    """Mostly canonical headers with perturbations anywhere (missing, repeated, reordered keys, odd values)."""
    words = st.lists(st.sampled_from(_WORDS), min_size=0, max_size=3)
    head = draw(st.sampled_from(["sp", "tr"] * 10 + ["SP", ">sp"])) + "|" + draw(st.sampled_from(["P1", "A0A0", "Q9-2"] * 5 + ["", "A B"]))
    head += "|" + draw(st.sampled_from(["X_HUMAN", "Y"] * 5 + ["", "A|B"]))
    fields = [" ".join(draw(words))]
    for key in ("OS", "OX", "GN", "PE", "SV"):
        if draw(st.integers(0, 12)):
            value = " ".join(draw(words)) if key in ("OS", "GN") else draw(st.sampled_from(_NUMBERS))
            fields.append(key + "=" + value)
    if draw(st.integers(0, 3)) == 0:
        fields.append(draw(st.sampled_from(["Split=0", "", "OX=5", "GN=q", "OS=z", "foo bar", "=1"])))
    if draw(st.integers(0, 12)) == 0:
        draw(st.randoms()).shuffle(fields)
    sep = st.sampled_from(_SEPS)
    text = head + draw(sep)
    for f in fields:
        text += f + draw(sep)
    return text.rstrip(" ") if draw(st.booleans()) else text


@settings(max_examples=300, deadline=None)
@given(st.lists(_headers(), min_size=1, max_size=8))
def test_fuzz_same_as_careful(descs):
    try:
        want = _careful(descs)
    except FastaFormatError:
        with pytest.raises(BatchError):
            _headers_batch(descs)
        return
    got = _headers_batch(descs)
    assert got == want
    assert [[type(x) for x in h] for h in got] == [[type(x) for x in h] for h in want]
