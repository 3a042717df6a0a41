"""The library writes what ``protlm sequence`` writes: SequencingResult.write against the command, file by file.

The command and the library run the same steps (reads, truth, reference guide with identification, the
same model) into two folders; every file must be byte-identical.  report.json is compared as JSON with
the fields that must differ left out: ``argv`` (the command line; the library has none), ``started``
(a clock time), and the durations (``wall_seconds`` and every ``*seconds`` / ``reads_per_second``
field of the search, index and identification summaries).
"""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from protlm.cli import main

from test_reference import KNOWN, fasta_text, mask, random_proteins

_TIMES = ("argv", "started")


def _without_times(obj):
    if isinstance(obj, dict):
        return {k: _without_times(v) for k, v in obj.items()
                if k not in _TIMES and not k.endswith("seconds") and k != "reads_per_second"}
    if isinstance(obj, list):
        return [_without_times(v) for v in obj]
    return obj


@pytest.fixture()
def inputs(tmp_path):
    proteins = random_proteins(40, 120, seed=11)
    ref = tmp_path / "ref.fasta"
    ref.write_text(fasta_text(proteins))
    reads, truth = tmp_path / "reads.fasta", tmp_path / "truth.fasta"
    picked = [3, 7, 21]
    reads.write_text("".join(f">r{i}\n{mask(proteins[i])}\n" for i in picked) + ">r_none\nXXXXXXXXXX\n")
    truth.write_text("".join(f">r{i}\n{proteins[i]}\n" for i in picked) + ">r_none\nAAAAAAAAAA\n")
    runner = CliRunner()
    res = runner.invoke(main, ["index", str(ref), "-o", str(tmp_path / "ref.idx")])
    assert res.exit_code == 0, res.output
    return tmp_path, ref, reads, truth, tmp_path / "ref.idx"


def test_library_write_is_the_command_output(inputs, tiny_model_path):
    from protlm.report import base_report
    from protlm.sequencing.backends import ModelBackend
    from protlm.sequencing.error_model import DEFAULT_FALSE_DETECTION, WHATPROT_EDMAN_FAILURE, ErrorModel
    from protlm.sequencing.evaluate import read_truth, read_truth_origins
    from protlm.sequencing.hybrid import guide_reads
    from protlm.sequencing.identify import DEFAULT_FDR
    from protlm.sequencing.reads import read_reads
    from protlm.sequencing.result import SEQUENCE_OUTPUTS, SequencingResult, sequence_reads

    tmp, ref, reads_path, truth_path, idx = inputs
    cli_out = tmp / "cli"
    res = CliRunner().invoke(main, ["sequence", str(reads_path), "-o", str(cli_out), "--known", KNOWN, "--model",
                                    str(tiny_model_path), "--reference", str(ref), "--index", str(idx), "--truth",
                                    str(truth_path), "--device", "cpu"])
    assert res.exit_code == 0, res.output

    # the same run through the library
    reads = read_reads(reads_path, known=KNOWN)
    ids = [r.id for r in reads]
    # the command's defaults: Whatprot's Edman failure, the library's false detection
    errors = ErrorModel(edman_failure=WHATPROT_EDMAN_FAILURE, false_detection=DEFAULT_FALSE_DETECTION)
    guide = guide_reads(reads, ref, known=KNOWN, index=idx, max_hits=5, errors=errors, fdr=DEFAULT_FDR)
    assert guide.identifications is not None
    backend = ModelBackend.from_weights(tiny_model_path, device="cpu")
    cli_report = json.loads((cli_out / "report.json").read_text())
    result = sequence_reads(reads, known=KNOWN, backend=backend, guide=guide, truth=read_truth(truth_path, ids),
                            truth_origins=read_truth_origins(truth_path, ids), options=cli_report["options"], seed=0)
    assert isinstance(result, SequencingResult) and len(result) == 4
    lib_out = result.write(tmp / "lib")

    cli_files = sorted(p.name for p in cli_out.iterdir())
    assert cli_files == sorted(p.name for p in lib_out.iterdir())
    assert set(cli_files) == set(SEQUENCE_OUTPUTS)  # reference, identification and truth: every output
    for name in cli_files:
        a, b = (cli_out / name).read_bytes(), (lib_out / name).read_bytes()
        if name == "report.json":
            assert _without_times(json.loads(a)) == _without_times(json.loads(b))
        else:
            assert a == b, name
    # report.json from the library alone (no report= given) records the same fields
    assert set(json.loads((lib_out / "report.json").read_text())) == set(cli_report)
    assert _without_times(cli_report) == _without_times(
        json.loads(result.write(tmp / "lib2", report=base_report(command="sequence", options=result.options, seed=0,
                                                                 device=result.device)).joinpath("report.json").read_text()))

    # to_dataframe is positions.tsv
    import pandas as pd

    df = result.to_dataframe()
    tsv = pd.read_csv(io.StringIO((cli_out / "positions.tsv").read_text()), sep="\t")
    assert list(df.columns) == list(tsv.columns) and len(df) == len(tsv)
    assert (df["read_id"].tolist() == tsv["read_id"].tolist()) and (df["source"].tolist() == tsv["source"].tolist())


def test_without_reference_or_truth(tmp_path, tiny_backend):
    from protlm.sequencing.reads import PartialRead
    from protlm.sequencing.result import sequence_reads

    result = sequence_reads([PartialRead("a", "XKXXCXXY"), PartialRead("b", "KXXM")], known=KNOWN, backend=tiny_backend)
    out = result.write(tmp_path / "o")
    assert sorted(p.name for p in out.iterdir()) == ["positions.tsv", "predictions.fasta", "report.json"]
    report = json.loads((out / "report.json").read_text())
    assert report["command"] == "sequence" and report["n_reads"] == 2 and "evaluation" not in report
    assert len(result.to_dataframe()) == 12
