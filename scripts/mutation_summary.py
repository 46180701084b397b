"""Print mutmut's verdicts per registry/domain module: mutants, killed, survived, other.

Usage: python scripts/mutation_summary.py [module ...]   (after `mutmut run`, from the repo root)
"Killed" counts mutants the tests detected: failed tests and timeouts (an endless loop caught);
"survived" includes mutants no test reaches ("no tests"). The score is killed / mutants.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

DETECTED = {"killed", "timeout"}


def main(modules: list[str]) -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run([str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        parts = name.split(".")
        if len(parts) < 4 or parts[:2] != ["registry", "domain"]:
            continue
        counts[parts[2]][status] += 1
    print(f"{'module':<16}{'mutants':>8}{'killed':>8}{'survived':>9}{'other':>7}{'score':>8}")
    everything: Counter[str] = Counter()
    listed = modules or sorted(counts)
    for module in listed:
        c = counts.get(module, Counter())
        everything.update(c)
        _row(module, c)
        if c["not checked"]:
            print(f"  ({c['not checked']} not checked: run `mutmut run \"registry.domain.{module}.*\"`)")
    if len(listed) > 1:
        _row("total", everything)
    return 0


def _row(label: str, c: Counter[str]) -> None:
    total = sum(c.values())
    killed = sum(c[s] for s in DETECTED)
    survived = c["survived"] + c["no tests"]  # no test reaches it: not detected either
    other = total - killed - survived
    score = f"{100 * killed / total:.1f}%" if total else "-"
    print(f"{label:<16}{total:>8}{killed:>8}{survived:>9}{other:>7}{score:>8}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
