"""The benchmark suite runs end to end in its quick mode (bench/run.py --quick).

A smoke test only: it proves every benchmark runs and the report is written. Timings and targets
are not asserted; the real figures come from `python bench/run.py` (see bench/RESULTS.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ("listing", "economy", "fanout", "prefetch", "writes", "coldstart", "memory")


def test_quick_run_writes_a_report_with_every_benchmark(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    proc = subprocess.run([sys.executable, "bench/run.py", "--quick", "--output", str(report)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = report.read_text(encoding="utf-8")
    assert "- command: `python bench/run.py --quick --output " in text
    assert "- nproc: " in text and "- CPU: " in text and "- Python: " in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| benchmark")]
    assert {row.split(" | ")[0].strip("| ") for row in rows} == set(BENCHMARKS)
    assert not [row for row in rows if row.rstrip().endswith("| ERROR |")]
