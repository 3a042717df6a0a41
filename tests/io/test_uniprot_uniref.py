import gzip
import io

import pytest

from protlm.errors import FastaFormatError, UniRefFormatError
from protlm.io import iter_uniprot, iter_uniref, iter_uniref_xml, parse_uniprot_header, parse_uniref_header, read_fasta, read_uniprot


def test_ecoli_proteome_headers(data):
    recs = read_uniprot(data("proteomes/ecoli_k12_UP000000625.fasta"))
    assert len(recs) == 4352
    assert sum(len(r.sequence) for r in recs) == 1_353_365
    assert {r.header.taxid for r in recs} == {83333}
    assert {r.header.organism for r in recs} == {"Escherichia coli (strain K12)"}
    assert {r.header.db for r in recs} <= {"sp", "tr"}
    assert all(r.header.pe in range(1, 6) and r.header.sv >= 1 for r in recs)
    first = recs[0].header
    assert (first.accession, first.entry_name, first.gene) == ("A0A385XJ53", "INSA9_ECOLI", "insA9")
    assert first.protein_name == "Insertion element IS1 9 protein InsA"


def test_uniprot_sample_gz(data):
    recs = list(iter_uniprot(data("proteomes/uniprot_sample_20k.fasta.gz")))
    assert len(recs) == 20000
    assert all(r.header.extra == "Split=0" for r in recs)
    assert sum(r.header.db == "sp" for r in recs) > 0 and sum(r.header.db == "tr" for r in recs) > 0
    assert [r.sequence for r in recs[:50]] == [r.sequence for r in read_fasta(data("proteomes/uniprot_sample_20k.fasta.gz"))[:50]]


def test_uniprot_header_without_gene():
    h = parse_uniprot_header(">tr|Q1|Q1_9X Some protein, partial OS=Virus X (strain 1) OX=12 PE=4 SV=1")
    assert h.gene is None and h.taxid == 12 and h.organism == "Virus X (strain 1)" and h.protein_name == "Some protein, partial"


def test_non_uniprot_header_named_in_error():
    with pytest.raises(FastaFormatError) as err:
        list(iter_uniprot(io.StringIO(">sp|P1|A_B x OX=1\nMK\n>UniRef90_X\nMK\n")))
    assert err.value.record == 1 and err.value.line == 3


def test_uniref_fasta_headers(data):
    recs = list(iter_uniref(data("uniref/esm_some_proteins_uniref50_ids.fasta")))
    assert len(recs) == 15
    assert all(r.header.level == "UniRef50" and r.header.n_members is None for r in recs)
    h = parse_uniref_header("UniRef100_A0A0 Putative uncharacterized protein n=1 Tax=Homo sapiens TaxID=9606 RepID=A0A0_HUMAN")
    assert (h.cluster_id, h.name, h.n_members, h.taxon, h.taxid, h.rep_id) == (
        "UniRef100_A0A0", "Putative uncharacterized protein", 1, "Homo sapiens", 9606, "A0A0_HUMAN",
    )
    with pytest.raises(UniRefFormatError):
        parse_uniref_header("UniRef90_X name n=many")


def test_uniref_xml(data, tmp_path):
    path = data("uniref/UniRef90_P99999.xml")
    (e,) = list(iter_uniref_xml(path))
    assert (e.cluster_id, e.level, e.name, e.n_members) == ("UniRef90_P99999", "UniRef90", "Cytochrome c", 27)
    assert (e.common_taxon, e.common_taxid) == ("Catarrhini", 9526)
    assert e.representative.db_id == "CYC_HUMAN" and e.representative.taxid == 9606
    assert "P99999" in e.representative.accessions
    assert len(e.sequence) == 105 and e.sequence.startswith("MGDVEKGKKIFI")
    assert len(e.members) == 26  # + the representative = member count 27
    gz = tmp_path / "x.xml.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert list(iter_uniref_xml(gz))[0].sequence == e.sequence


def test_uniref_xml_streams_many_entries():
    entry = '<entry id="UniRef50_{i}"><name>Cluster: c{i}</name><representativeMember><sequence>MK</sequence></representativeMember></entry>'
    xml = "<UniRef>" + "".join(entry.format(i=i) for i in range(3000)) + "</UniRef>"
    ids = [e.cluster_id for e in iter_uniref_xml(io.BytesIO(xml.encode()))]
    assert len(ids) == 3000 and ids[-1] == "UniRef50_2999"


def test_uniref_xml_truncated(data):
    data = (data("uniref/UniRef90_P99999.xml")).read_bytes()[:5000]
    with pytest.raises(UniRefFormatError) as err:
        list(iter_uniref_xml(io.BytesIO(data)))
    assert err.value.line is not None
