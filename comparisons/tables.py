"""Markdown tables for the comparison reports (one helper for every study's section)."""
from __future__ import annotations


def markdown_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A Markdown table of ``rows``.

    Parameters
    ----------
    rows
        One dictionary per table row.
    columns
        ``(key, header, format)`` per column; ``format`` is a :func:`format` spec. A
        missing key or a None value gives an empty cell. Write a ``|`` inside a header
        as ``\\|``.
    """
    lines = ["| " + " | ".join(header for _, header, _ in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join("" if row.get(key) is None else format(row[key], fmt)
                                       for key, _, fmt in columns) + " |")
    return "\n".join(lines)
