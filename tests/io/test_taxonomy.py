"""Taxonomy sources: every format, every id form, gzip, streaming, coverage, and one-line errors."""

from __future__ import annotations

import gzip
import io

import pytest

from protlm.errors import TaxonomyFormatError
from protlm.io import MSA, PairedFamilies, read_paired_families
from protlm.io.taxonomy import accession_of, read_taxonomy, sniff_taxonomy

# The ids of a ColabFold/MMseqs2 MSA pair (query first) in every form the module matches.
IDS = ["101", "UniRef100_A0A0B4J2F0", "UniRef90_Q9XYZ1", "P0A7B8.2", "sp|P0A7B9|X_ECOLI", "UPI0000ABCDEF",
       "tr|Q11111|Q11111_HUMAN"]

UNIREF_FASTA = (
    ">UniRef100_A0A0B4J2F0 Protein n=1 Tax=Escherichia coli TaxID=562 RepID=A0A0B4J2F0_ECOLX\nMKV\n"
    ">UniRef100_Q9XYZ1 Other n=3 Tax=Homo sapiens TaxID=9606 RepID=Q9XYZ1_HUMAN\nMKL\n"
    ">UniRef100_UPI0000ABCDEF Cluster n=1 Tax=Bacillus subtilis TaxID=1423 RepID=UPI0000ABCDEF\nMRV\n"
    ">UniRef100_NOTWANTED x n=1 Tax=x TaxID=1 RepID=X\nMM\n"
)
UNIPROT_FASTA = (
    ">sp|P0A7B8|HSLV_ECOLI ATP-dependent protease OS=Escherichia coli (strain K12) OX=83333 GN=hslV PE=1 SV=1\nMKV\n"
    ">sp|P0A7B9|X_ECOLI Other OS=Escherichia coli OX=562 PE=1 SV=1\nMKV\n"
    ">tr|Q11111|Q11111_HUMAN No taxon OS=Homo sapiens PE=4 SV=1\nMKV\n"
)
IDMAPPING = "P0A7B8\tUniProtKB-ID\tHSLV_ECOLI\nP0A7B8\tNCBI_TaxID\t83333\nQ9XYZ1\tNCBI_TaxID\t9606\nZZZ\tNCBI_TaxID\t1\n"
TSV = "Entry\tOrganism (ID)\n# a comment\nA0A0B4J2F0\t562\n\nUPI0000ABCDEF\t1423\n"
UNIREF_XML = """<?xml version="1.0" encoding="UTF-8"?>
<UniRef100 xmlns="http://uniprot.org/uniref">
<entry id="UniRef100_A0A0B4J2F0"><name>Cluster: X</name>
<property type="common taxon ID" value="562"/>
<representativeMember><dbReference type="UniParc ID" id="UPI0000ABCDEF">
<property type="NCBI taxonomy" value="1423"/></dbReference><sequence>MKV</sequence></representativeMember>
<member><dbReference type="UniProtKB ID" id="X_ECOLI"><property type="UniProtKB accession" value="P0A7B8"/>
<property type="NCBI taxonomy" value="83333"/></dbReference></member>
</entry></UniRef100>
"""
UNIPROT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<uniprot xmlns="http://uniprot.org/uniprot">
<entry dataset="Swiss-Prot"><accession>P0A7B8</accession><accession>Q9XYZ1</accession><name>HSLV_ECOLI</name>
<organism><name type="scientific">Escherichia coli</name><dbReference type="NCBI Taxonomy" id="83333"/></organism>
<organismHost><dbReference type="NCBI Taxonomy" id="9606"/></organismHost>
<sequence>MKV</sequence></entry>
</uniprot>
"""

CASES = {
    "fasta-uniref": (UNIREF_FASTA, {"UniRef100_A0A0B4J2F0": "562", "UniRef90_Q9XYZ1": "9606", "UPI0000ABCDEF": "1423"}),
    "fasta-uniprot": (UNIPROT_FASTA, {"P0A7B8.2": "83333", "sp|P0A7B9|X_ECOLI": "562"}),
    "idmapping": (IDMAPPING, {"P0A7B8.2": "83333", "UniRef90_Q9XYZ1": "9606"}),
    "tsv": (TSV, {"UniRef100_A0A0B4J2F0": "562", "UPI0000ABCDEF": "1423"}),
    "uniref-xml": (UNIREF_XML, {"UniRef100_A0A0B4J2F0": "562", "UPI0000ABCDEF": "1423", "P0A7B8.2": "83333"}),
    "uniprot-xml": (UNIPROT_XML, {"P0A7B8.2": "83333", "UniRef90_Q9XYZ1": "83333"}),
}
FORMAT = {"fasta-uniref": "fasta", "fasta-uniprot": "fasta"}


def _as(kind, text, tmp_path):
    if kind == "handle":
        return io.StringIO(text)
    path = tmp_path / ("tax.gz" if kind == "gzip" else "tax.txt")  # names say nothing: the content is sniffed
    path.write_bytes(gzip.compress(text.encode()) if kind == "gzip" else text.encode())
    return path


@pytest.mark.parametrize("kind", ["path", "handle", "gzip"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_format_finds_the_taxa_of_the_wanted_ids(case, kind, tmp_path):
    text, expected = CASES[case]
    tax = read_taxonomy([_as(kind, text, tmp_path)], ids=IDS)
    assert {i: tax.lookup(i) for i in IDS if tax.lookup(i) is not None} == expected
    assert tax.files[0]["format"] == FORMAT.get(case, case)
    assert sniff_taxonomy(_as(kind, text, tmp_path)) == FORMAT.get(case, case)


@pytest.mark.parametrize("raw, acc", [
    ("UniRef100_A0A0B4J2F0", "A0A0B4J2F0"), ("UniRef90_P1", "P1"), ("UniRef50_UPI0001", "UPI0001"),
    ("sp|P0A7B8|HSLV_ECOLI", "P0A7B8"), ("tr|Q1|Q1_HUMAN", "Q1"), ("P0A7B8.3", "P0A7B8"), ("UPI0000ABCDEF", "UPI0000ABCDEF"),
    ("UniRef100_A0A2N5EEG3\t282\t0.718\t1.3e-80\t0\t117\t118", "A0A2N5EEG3"),  # a ColabFold A3M header line
])
def test_id_forms(raw, acc):
    assert accession_of(raw) == acc


def test_only_wanted_ids_are_kept_and_earlier_sources_win(tmp_path):
    tax = read_taxonomy([io.StringIO(UNIREF_FASTA), io.StringIO("A0A0B4J2F0\t999\nQ9XYZ1\t1\n")], ids=IDS)
    assert "NOTWANTED" not in tax.by_accession and len(tax.by_accession) == 3
    assert tax.lookup("UniRef100_A0A0B4J2F0") == "562"  # the first source's taxon stays
    assert [f["n_matched"] for f in tax.files] == [3, 2]


def test_an_exact_uniref_level_beats_a_match_by_accession():
    src = (">UniRef90_P1 x n=5 Tax=Bacteria TaxID=2 RepID=P1_X\nMK\n"
           ">UniRef100_P1 x n=1 Tax=E. coli TaxID=562 RepID=P1_X\nMK\n")
    tax = read_taxonomy(io.StringIO(src), ids=["UniRef100_P1", "P1"])
    assert tax.lookup("UniRef100_P1") == "562" and tax.lookup("P1") == "2"


def test_fasta_records_without_taxon_are_counted():
    tax = read_taxonomy(io.StringIO(UNIPROT_FASTA), ids=IDS)
    assert tax.files[0] == {"path": "<handle>", "format": "fasta", "n_records": 3, "n_matched": 2, "n_without_taxon": 1}
    assert tax.lookup("tr|Q11111|Q11111_HUMAN") is None


def test_coverage_and_fallback_to_headers():
    tax = read_taxonomy(io.StringIO(TSV), ids=["UniRef100_A0A0B4J2F0", "h OX=9606", "101"])
    key = tax.species_key("auto")
    assert key("UniRef100_A0A0B4J2F0", "") == "562" and key("h", "h OX=9606") == "9606" and key("101", "101") is None
    assert tax.coverage(["UniRef100_A0A0B4J2F0", "h", "101"], ["", "h OX=9606", "101"]) == {
        "n_rows": 3, "n_from_taxonomy": 1, "n_from_header": 1, "n_without_species": 1}


def test_read_paired_families_with_taxonomy_keeps_rows_without_species_out_of_the_blocks():
    left = io.StringIO(">101\nMKV\n>UniRef100_A0A0B4J2F0\t80\nMKI\n>UPI0000ABCDEF\nMRV\n>UniRef100_NOPE\nMRA\n")
    right = io.StringIO(">102\nAC\n>UniRef100_Q9XYZ1\nAD\n>sp|P0A7B9|X_ECOLI\nAE\n")
    pf = read_paired_families(left, right, taxonomy=[io.StringIO(UNIREF_FASTA), io.StringIO(UNIPROT_FASTA)])
    assert [(b.species, b.n_left, b.n_right) for b in pf.blocks] == [("562", 1, 1)]
    assert (pf.n_no_key_left, pf.n_no_key_right) == (2, 1)  # the queries and the id no source names
    assert pf.taxonomy["left"] == {"n_rows": 4, "n_from_taxonomy": 2, "n_from_header": 0, "n_without_species": 2}
    assert pf.summary()["taxonomy"]["files"][0]["n_matched"] == 3


def test_without_taxonomy_the_error_says_how_to_give_one():
    left = MSA.from_sequences(["MKV", "MKI"], ids=["101", "UniRef100_A0A0B4J2F0"])
    right = MSA.from_sequences(["AC", "AD"], ids=["102", "UPI0000ABCDEF"])
    with pytest.raises(Exception, match=r"0 species on the left, 0 on the right.*--taxonomy FILE"):
        PairedFamilies.from_msas(left, right)


def test_memory_follows_the_msa_not_the_database():
    """A source of 50,000 records keeps only the 2 wanted ids."""
    big = "".join(f">UniRef100_X{i} n=1 Tax=t TaxID={i} RepID=R\nMKV\n" for i in range(50_000))
    tax = read_taxonomy(io.StringIO(big), ids=["UniRef100_X7", "X49999"])
    assert tax.files[0]["n_records"] == 50_000
    assert dict(tax.by_accession) == {"X7": "7", "X49999": "49999"}


@pytest.mark.parametrize("text, message", [
    ("", r"tax\.txt: empty file"),
    ("P1 9606\n", r"tax\.txt: line 1: not a taxonomy source"),
    ("P1\t9606\nP2\t9606\textra\n", r"tax\.txt: line 2: expected 2 tab-separated columns 'id<TAB>taxon', found 3"),
    ("P1\tNCBI_TaxID\t9606\nP2\tNCBI_TaxID\thuman\n", r"tax\.txt: line 2: NCBI_TaxID 'human' is not a number"),
    ("P1\tNCBI_TaxID\t9606\nP2\t9606\n", r"tax\.txt: line 2: expected 3 tab-separated columns"),
    ("P1\t\n", r"tax\.txt: line 1: empty taxon"),
    (">UniRef100_P1 TaxID=1\nMK1V\n", r"tax\.txt: record 1, line 2: character '1'"),
    ("<UniRef100><entry id='x'>\n<broken></entry>", r"tax\.txt: record 1, line 2: malformed XML"),
    ("<html><body/></html>", r"tax\.txt: line 1: XML with root <html>"),
])
def test_malformed_sources_name_file_and_line(text, message, tmp_path):
    path = _as("path", text, tmp_path)
    with pytest.raises(TaxonomyFormatError, match=message):
        read_taxonomy([path], ids=["P1"])


def test_real_uniref_xml(data):
    tax = read_taxonomy([data("uniref/UniRef90_P99999.xml")], ids=["UniRef90_P99999", "UniRef100_P99999"])
    assert tax.lookup("UniRef90_P99999") == "9526"  # the cluster's common taxon (Catarrhini)
    assert tax.lookup("UniRef100_P99999") == "9606"  # the representative member's own taxon


def test_real_uniprot_fasta_gzip(data):
    path = data("proteomes/uniprot_sample_20k.fasta.gz")
    tax = read_taxonomy([path], ids=["UniRef100_W0FSK4", "M4KW32"])
    assert tax.files[0]["n_records"] == 20_000
    # MMseqs2's example database has OS= but no OX=: the ids are found, without a taxon
    assert tax.files[0]["n_without_taxon"] == 2 and tax.lookup("M4KW32") is None
