"""Per-kind means of an evaluation report's per-example scores (e.g. caption CIDEr-D by sfx,
music, speech, singing and scene clips).

`unisono eval` writes each example's scores under `per_example[i]["scores"][row]` (a caption's
CIDEr-D uses the whole corpus' idf, so the per-kind means average back to the report's figure);
this groups them by the `kind` the manifest gives each clip.

    unisono eval caption --model default --manifest world/test200/manifest.jsonl --n 200 --out OUT
    python scripts/scores_by_kind.py OUT/report.json
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict

from unisono.data.manifest import read_manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="an evaluation's report.json")
    parser.add_argument("--manifest", default=None,
                        help="the manifest the report was made from (default: the report's)")
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as handle:
        report = json.load(handle)
    kinds = {e.id: e.kind for e in read_manifest(args.manifest or report["manifest"])}
    # (row, column) -> kind -> values
    table: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for example in report.get("per_example", []):
        kind = kinds.get(example["clip"], "?")
        for row, columns in example.get("scores", {}).items():
            for column, value in columns.items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    table[row, column][kind].append(float(value))
    if not table:
        raise SystemExit(f"{args.report} has no per-example scores.")
    every_kind = sorted({k for by_kind in table.values() for k in by_kind})
    print("| row | column | " + " | ".join(every_kind) + " | all |")
    print("|---|---|" + "---|" * (len(every_kind) + 1))
    for (row, column), by_kind in sorted(table.items()):
        cells = [f"{sum(v) / len(v):.3f} ({len(v)})" if (v := by_kind.get(k)) else "-"
                 for k in every_kind]
        values = [x for v in by_kind.values() for x in v]
        print(f"| {row} | {column} | " + " | ".join(cells) + f" | {sum(values) / len(values):.3f} |")


if __name__ == "__main__":
    main()
