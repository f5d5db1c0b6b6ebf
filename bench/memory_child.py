"""Memory probe, run by bench/run.py in a fresh process: stream a full listing and report RSS.

    python bench/memory_child.py DEPLOYMENT

The baseline is the resident set after imports, connection open and one warm-up query (so the
workspace session and lazily imported modules are loaded); the peak high-water mark is then reset
(/proc/self/clear_refs) and `SELECT *` is iterated and discarded. Prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import sys
import time


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def main(deployment: str) -> None:
    import sqlprovider

    table = "databricks_workspace.ml.model_registry_webhooks"
    with sqlprovider.connect() as conn:
        where = f"WHERE deployment_name = '{deployment}'"  # a DNS label: nothing to escape
        conn.execute(f"SELECT * FROM {table} {where} LIMIT 1").fetchall()
        gc.collect()
        baseline = _status_kib("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
                refs.write("5")  # reset VmHWM to the current RSS
            reset = True
        except OSError:
            reset = False
        started = time.perf_counter()
        rows = 0
        for _ in conn.execute(f"SELECT * FROM {table} {where}"):
            rows += 1
        seconds = time.perf_counter() - started
        peak = _status_kib("VmHWM")
    print(json.dumps({"rows": rows, "baseline_kib": baseline, "peak_kib": peak, "hwm_reset": reset,
                      "seconds": seconds}))


if __name__ == "__main__":
    main(sys.argv[1])
