"""Shared helpers of the SONATA tests (tests/test_sonata*.py)."""
import csv


def rewrite_types(path, change):
    """Apply ``change(row)`` to every row (a dict) of a space-separated SONATA types table and write it
    back."""
    with open(path) as handle:
        rows = list(csv.DictReader(handle, delimiter=" "))
    for row in rows:
        change(row)
    with open(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=" ")
        writer.writeheader()
        writer.writerows(rows)
