#!/usr/bin/env python3
"""Score `braintumor predict --format jsonl` output against the class folder each path sits in.

    braintumor predict DATA/Testing --format jsonl | python scripts/score_jsonl.py

Independent of the package on purpose: it checks the CLI's answers, not the library's.
A slice refused as not brain MRI (``"ood": true``, label withheld) is scored by its most probable
class for the model's accuracy, and counted apart as a refusal; "answered" counts it as wrong.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import PurePath


def main() -> int:
    if {"-h", "--help"} & set(sys.argv[1:]) or sys.stdin.isatty():  # nothing piped in: say how, do not wait
        print(__doc__.strip(), file=sys.stderr)
        return 0 if len(sys.argv) > 1 else 2
    total, correct, errors, refused, answered = Counter(), Counter(), 0, 0, 0
    for line in sys.stdin:
        if not line.strip():
            continue
        rec = json.loads(line)
        truth = PurePath(rec["path"]).parent.name
        total[truth] += 1
        if "error" in rec:
            errors += 1
            continue
        probs = rec["probabilities"]
        best = max(probs, key=probs.get)
        correct[truth] += best == truth
        answered += rec["label"] == truth
        refused += bool(rec.get("ood"))
    n = sum(total.values())
    if not n:
        print("no predictions read", file=sys.stderr)
        return 2
    print(f"accuracy {sum(correct.values())}/{n} = {100 * sum(correct.values()) / n:.2f} %  (errors: {errors})")
    print(f"refused as not brain MRI: {refused}; answered correctly (refusals count as wrong): "
          f"{answered}/{n} = {100 * answered / n:.2f} %")
    for cls in sorted(total):
        print(f"  {cls:<11} recall {correct[cls]}/{total[cls]} = {100 * correct[cls] / total[cls]:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
