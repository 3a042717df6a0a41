"""Shared by the interleaved-block formats (Stockholm, Clustal): join and check rows."""

from __future__ import annotations

from protlm.io.fasta import _BAD_SEQ_CHAR


def assemble_rows(pieces: dict, first_line: dict, *, error, path, record=None):
    """Join each name's pieces; raise ``error`` on a ragged alignment or a bad character.

    Returns ``(ids, rows)`` in order of first appearance.
    """
    ids = list(pieces)
    rows = ["".join(pieces[i]) for i in ids]
    width = len(rows[0]) if rows else 0
    for k, (sid, row) in enumerate(zip(ids, rows)):
        where = {"path": path, "record": k if record is None else record, "line": first_line[sid]}
        if len(row) != width:
            raise error(f"ragged alignment: sequence {sid!r} has {len(row)} columns, {ids[0]!r} has {width}", **where)
        m = _BAD_SEQ_CHAR.search(row)
        if m is not None:
            raise error(
                f"sequence {sid!r}: character {row[m.start()]!r} at column {m.start() + 1} is not a letter, gap or '*'",
                **where,
            )
    return ids, rows
