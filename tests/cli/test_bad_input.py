"""Bad input to every command: one line naming the file (and record/line) or the option, exit 2, no traceback,
and nothing written: no output folder or file is created, and an existing one is left as it was.

Each row of ``CASES`` is (command, defect, argument builder, fragments the message must hold).  The
builder gets a folder holding good and bad input files (see ``inputs``) and returns the command line
and the output path it names.
"""

from __future__ import annotations

import gzip
import os

import pytest
from click.testing import CliRunner

from protlm.cli import main

GOOD_LEFT = ">a OX=1\nACDEFG\n>b OX=1\nACDEFH\n>c OX=2\nACDEFI\n>d OX=2\nACDEFK\n"
GOOD_RIGHT = ">x OX=1\nKLMNPQ\n>y OX=1\nKLMNPR\n>z OX=2\nKLMNPS\n>w OX=2\nKLMNPT\n"
PROTEINS = ">p1 protein one\n" + "MKCYLLAVAAGKCMYW" * 4 + "\n>p2 protein two\n" + "MSTKCYWLLPEGHKRM" * 4 + "\n"


@pytest.fixture()
def inputs(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    files = {
        "left.fasta": GOOD_LEFT,
        "right.fasta": GOOD_RIGHT,
        "proteins.fasta": PROTEINS,
        "reads.fasta": ">r1\nXKXXCXYXXXM\n",
        "empty.fasta": "",
        "ragged.fasta": ">a OX=1\nACDEFG\n>b OX=1\nACD\n",
        "alphabet.fasta": ">a OX=1\nAC1EFG\n>b OX=1\nACDEFH\n",
        "proteins_bad.fasta": ">p1\nMKC1YLL\n",
        "reads_bad.fasta": ">r1\nXKXXJXX\n",
        "truth_unknown.tsv": "a\tx\nnope\ty\n",
        "ctx_left.fasta": ">c1\nACDEFG\n>c2\nACDEFH\n",
        "ctx_right.fasta": ">k1\nKLMNPQ\n>k2\nKLMNPR\n",
        "ctx_narrow.fasta": ">k1\nKLMN\n>k2\nKLMP\n",
        "ctx_unknown.tsv": "left_id\tright_id\nc1\tk1\nc2\tnope\n",
        "known_unknown.tsv": "nope\tx\n",
        "known_cross.tsv": "a\tz\n",
        "not_a_checkpoint.pt": "this is not a checkpoint\n",
        "report_broken.json": '{"method": "x",\n oops}',
        "text.json": '{"a": 1}\n',
    }
    for name, text in files.items():
        (d / name).write_text(text)
    (d / "binary.fasta").write_bytes(bytes(range(256)) * 8)
    (d / "truncated.fasta.gz").write_bytes(gzip.compress(GOOD_LEFT.encode() * 50)[:-30])
    (d / "a_file").write_text("I am a file\n")
    return d


def _out(tmp_path):
    return tmp_path / "out"


# (command, defect, args(d, out) -> list, fragments expected in the message)
CASES = [
    # inspect
    ("inspect", "missing file", lambda d, o: ["inspect", str(d / "nope.fasta")], ["nope.fasta", "does not exist"]),
    ("inspect", "empty file", lambda d, o: ["inspect", str(d / "empty.fasta")], ["empty.fasta", "empty"]),
    ("inspect", "binary file", lambda d, o: ["inspect", str(d / "binary.fasta")], ["binary.fasta"]),
    ("inspect", "truncated gzip", lambda d, o: ["inspect", str(d / "truncated.fasta.gz")], ["truncated.fasta.gz"]),
    ("inspect", "wrong format", lambda d, o: ["inspect", str(d / "text.json")], ["text.json", "line 1"]),
    # pair (weights-free method, so the input checks are what is exercised)
    ("pair", "missing file", lambda d, o: ["pair", str(d / "nope.fasta"), str(d / "right.fasta"), "-o", str(o)],
     ["nope.fasta", "does not exist"]),
    ("pair", "empty file", lambda d, o: ["pair", str(d / "empty.fasta"), str(d / "right.fasta"), "-o", str(o),
                                         "--method", "random"], ["empty.fasta"]),
    ("pair", "binary file", lambda d, o: ["pair", str(d / "binary.fasta"), str(d / "right.fasta"), "-o", str(o),
                                          "--method", "random"], ["binary.fasta"]),
    ("pair", "truncated gzip", lambda d, o: ["pair", str(d / "truncated.fasta.gz"), str(d / "right.fasta"), "-o",
                                             str(o), "--method", "random"], ["truncated.fasta.gz"]),
    ("pair", "ragged alignment", lambda d, o: ["pair", str(d / "ragged.fasta"), str(d / "right.fasta"), "-o", str(o),
                                               "--method", "random"], ["ragged.fasta", "record 2"]),
    ("pair", "wrong alphabet", lambda d, o: ["pair", str(d / "alphabet.fasta"), str(d / "right.fasta"), "-o", str(o),
                                             "--method", "random"], ["alphabet.fasta", "'1'"]),
    ("pair", "truth id not in the MSAs", lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"), "-o",
                                                       str(o), "--method", "random", "--truth",
                                                       str(d / "truth_unknown.tsv")],
     ["truth_unknown.tsv", "line 2", "'nope'"]),
    ("pair", "contradictory options", lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"), "-o",
                                                    str(o), "--split-at", "3"], ["--split-at"]),
    ("pair", "weights file not a checkpoint", lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"),
                                                            "-o", str(o), "--weights",
                                                            str(d / "not_a_checkpoint.pt"), "--steps", "1"],
     ["not_a_checkpoint.pt"]),
    ("pair", "context id not in the context MSAs",
     lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"), "-o", str(o), "--method", "mi-ipa",
                   "--context", str(d / "ctx_left.fasta"), str(d / "ctx_right.fasta"), "--context-pairs",
                   str(d / "ctx_unknown.tsv")], ["ctx_unknown.tsv", "line 3", "'nope'", "context right MSA"]),
    ("pair", "context columns differ", lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"), "-o",
                                                     str(o), "--method", "mi-ipa", "--context",
                                                     str(d / "ctx_left.fasta"), str(d / "ctx_narrow.fasta")],
     ["ctx_narrow.fasta", "4 columns"]),
    ("pair", "--context-pairs without its MSAs", lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"),
                                                               "-o", str(o), "--method", "mi-ipa", "--context-pairs",
                                                               str(d / "ctx_unknown.tsv")],
     ["--context-pairs", "--context CTX_LEFT CTX_RIGHT"]),
    ("pair", "--context with a method that cannot use it",
     lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"), "-o", str(o), "--method", "random",
                   "--context", str(d / "ctx_left.fasta"), str(d / "ctx_right.fasta")], ["--context", "random"]),
    ("pair", "known-pair id not in the inputs", lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"),
                                                              "-o", str(o), "--method", "mi-ipa", "--known-pairs",
                                                              str(d / "known_unknown.tsv")],
     ["known_unknown.tsv", "line 1", "'nope'"]),
    ("pair", "known pair across species", lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"), "-o",
                                                        str(o), "--method", "mi-ipa", "--known-pairs",
                                                        str(d / "known_cross.tsv")],
     ["known_cross.tsv", "line 1", "not inside one species"]),
    ("pair", "output is a file", lambda d, o: ["pair", str(d / "left.fasta"), str(d / "right.fasta"), "-o",
                                               str(d / "a_file"), "--method", "random"], ["a_file"]),
    # train-pair-model
    ("train-pair-model", "missing file", lambda d, o: ["train-pair-model", str(d / "nope.fasta"),
                                                       str(d / "right.fasta"), "-o", str(o)], ["nope.fasta"]),
    ("train-pair-model", "ragged alignment", lambda d, o: ["train-pair-model", str(d / "ragged.fasta"),
                                                           str(d / "right.fasta"), "-o", str(o)],
     ["ragged.fasta", "record 2"]),
    ("train-pair-model", "init not a checkpoint", lambda d, o: ["train-pair-model", str(d / "left.fasta"),
                                                                str(d / "right.fasta"), "-o", str(o), "--init",
                                                                str(d / "not_a_checkpoint.pt")],
     ["not_a_checkpoint.pt"]),
    ("train-pair-model", "output is a file", lambda d, o: ["train-pair-model", str(d / "left.fasta"),
                                                           str(d / "right.fasta"), "-o", str(d / "a_file")],
     ["a_file"]),
    # simulate
    ("simulate", "missing file", lambda d, o: ["simulate", str(d / "nope.fasta"), "-o", str(o), "--known", "KC"],
     ["nope.fasta"]),
    ("simulate", "wrong alphabet", lambda d, o: ["simulate", str(d / "proteins_bad.fasta"), "-o", str(o), "--known",
                                                 "KC"], ["proteins_bad.fasta", "'1'"]),
    ("simulate", "bad known set", lambda d, o: ["simulate", str(d / "proteins.fasta"), "-o", str(o), "--known",
                                                "KB"], ["'B'"]),
    ("simulate", "output is a folder", lambda d, o: ["simulate", str(d / "proteins.fasta"), "-o", str(d), "--known",
                                                     "KC"], ["{in}"]),
    # sequence
    ("sequence", "missing file", lambda d, o: ["sequence", str(d / "nope.fasta"), "-o", str(o), "--known", "KCYM"],
     ["nope.fasta"]),
    ("sequence", "bad read letter", lambda d, o: ["sequence", str(d / "reads_bad.fasta"), "-o", str(o), "--known",
                                                  "KCYM"], ["reads_bad.fasta", "'J'"]),
    ("sequence", "binary reads", lambda d, o: ["sequence", str(d / "binary.fasta"), "-o", str(o), "--known", "KCYM"],
     ["binary.fasta"]),
    ("sequence", "model not a checkpoint", lambda d, o: ["sequence", str(d / "reads.fasta"), "-o", str(o), "--known",
                                                         "KCYM", "--model", str(d / "not_a_checkpoint.pt")],
     ["not_a_checkpoint.pt"]),
    ("sequence", "missing truth", lambda d, o: ["sequence", str(d / "reads.fasta"), "-o", str(o), "--known", "KCYM",
                                                "--truth", str(d / "nope.fasta")], ["nope.fasta"]),
    ("sequence", "output is a file", lambda d, o: ["sequence", str(d / "reads.fasta"), "-o", str(d / "a_file"),
                                                   "--known", "KCYM"], ["a_file"]),
    # index
    ("index", "missing file", lambda d, o: ["index", str(d / "nope.fasta"), "-o", str(o)], ["nope.fasta"]),
    ("index", "binary file", lambda d, o: ["index", str(d / "binary.fasta"), "-o", str(o)], ["binary.fasta"]),
    ("index", "empty file", lambda d, o: ["index", str(d / "empty.fasta"), "-o", str(o)], ["empty.fasta"]),
    ("index", "bad known set", lambda d, o: ["index", str(d / "proteins.fasta"), "-o", str(o), "--known", "KB"],
     ["'B'"]),
    ("index", "output is a folder", lambda d, o: ["index", str(d / "proteins.fasta"), "-o", str(d)], ["{in}"]),
    # train-sequencer
    ("train-sequencer", "missing file", lambda d, o: ["train-sequencer", str(d / "nope.fasta"), "-o", str(o)],
     ["nope.fasta"]),
    ("train-sequencer", "wrong alphabet", lambda d, o: ["train-sequencer", str(d / "proteins_bad.fasta"), "-o",
                                                        str(o)], ["proteins_bad.fasta"]),
    ("train-sequencer", "init not a checkpoint", lambda d, o: ["train-sequencer", str(d / "proteins.fasta"), "-o",
                                                               str(o), "--init", str(d / "not_a_checkpoint.pt")],
     ["not_a_checkpoint.pt"]),
    ("train-sequencer", "output is a file", lambda d, o: ["train-sequencer", str(d / "proteins.fasta"), "-o",
                                                          str(d / "a_file")], ["a_file"]),
    # summarize
    ("summarize", "missing report", lambda d, o: ["summarize", "pairing", str(d / "nope.json"), "-o", str(o)],
     ["nope.json"]),
    ("summarize", "broken report", lambda d, o: ["summarize", "pairing", str(d / "report_broken.json"), "-o",
                                                 str(o)], ["report_broken.json", "line 2"]),
    ("summarize", "output is a folder", lambda d, o: ["summarize", "pairing", str(d / "text.json"), "-o", str(d)],
     ["{in}"]),
]


def _snapshot(folder):
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.mark.parametrize("command, defect, build, fragments", CASES, ids=[f"{c}: {d}" for c, d, _, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(inputs, tmp_path, monkeypatch, command, defect, build,
                                                        fragments):
    monkeypatch.setenv("PROTLM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PROTLM_OFFLINE", "1")
    out = _out(tmp_path)
    before = _snapshot(inputs)
    res = CliRunner().invoke(main, build(inputs, out))
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit), res.output
    errors = [ln for ln in lines if ln.startswith("protlm: error: ")]
    assert len(errors) == 1 and errors == lines[-1:], res.output
    for fragment in fragments:
        fragment = fragment.replace("{in}", str(inputs))
        assert fragment in errors[0], (fragment, errors[0])
    assert not os.path.lexists(out), f"{out} was created"
    assert _snapshot(inputs) == before, "an input folder was changed"
