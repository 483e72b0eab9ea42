"""The published tables as open data: one long-format table (table, period,
group, value, count), hidden counts marked, with the method and the k used.
Only the public tables; units and deadlines per channel are for leadership."""
from __future__ import annotations

import csv
import io

from ..domain.disclosure import HIDDEN
from .releases import Release

PUBLIC_TABLES = ("category", "chain_level", "principle", "outcome", "removed_category", "status",
                 "misconduct_received", "misconduct_outcome")
SUPPRESSED = "suppressed"
CSV_COLUMNS = ("table", "period", "group", "value", "count")


def rows(found: dict[tuple[str, str], Release]) -> list[dict]:
    result = []
    for (period, table), release in sorted(found.items()):
        if table not in PUBLIC_TABLES:
            continue
        for group, partition in sorted(release.partitions.items()):
            for value, count in partition.cells.items():
                result.append({"table": table, "period": period, "group": group, "value": value,
                               "count": SUPPRESSED if count is HIDDEN else count})
            result.append({"table": table, "period": period, "group": group, "value": "total",
                           "count": SUPPRESSED if partition.total is HIDDEN else partition.total})
    return result


def document(found, *, k: int, k_misconduct: int, method: dict[str, str], released: str | None) -> dict:
    return {"format": 1, "k": k, "k_misconduct": k_misconduct, "released": released, "method": method,
            "suppressed_mark": SUPPRESSED, "rows": rows(found)}


def as_csv(found) -> str:
    """UTF-8 with a byte order mark, so spreadsheet programs read å, ä, ö right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows(found))
    return out.getvalue()


def latest_release(found) -> str | None:
    moments = [release.published_at for release in found.values()]
    return max(moments).date().isoformat() if moments else None
