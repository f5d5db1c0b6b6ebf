"""The benchmark suite (issue 8): every figure is a ratio against a baseline measured in the same run.

    python bench/run.py [--quick] [--only NAME ...] [--repeat N] [--output PATH] [--profile] [--strict]

Benchmarks (NAME for --only):

- listing:   SELECT * of N webhooks in one workspace vs databricks-sdk list_webhooks() and vs a bare
             loop: requests, orjson, and the very row tuples the engine answers (checked before timing)
             (a minimal in-memory server, so the client's cost is measured)
- economy:   requests per statement for typical statements, counted by the server
- fanout:    a query over W workspaces (W = 8, 9, 32, 100; 100 ms per request) vs a plain thread pool
             of width W running the bare loop on each
- prefetch:  a listing of 10 pages at 50 and 100 ms per request vs the sequential floor, pages x round trip
- writes:    INSERT of 500 rows (20 ms per request) vs 500 sequential creates with requests;
             RETURNING order and per-row error reporting are checked too
- coldstart: a fresh `sqlprovider exec` to the first row of a real listing vs a `python -c` script
             making the same GET with requests (subprocesses, time to the row's line on stdout)
- memory:    peak RSS growth while streaming 100,000 webhooks (a subprocess; bench/memory_child.py)

Each timed benchmark runs `--repeat` times (default 5; 1 with --quick), baseline and candidate
back to back in each repeat, after one unmeasured warm-up, in alternating order (forward in even
repeats, backward in odd ones); the ratio of each repeat is reported as min / median / max, and
PASS/MISS compares the median with the target. The listing also reports process-CPU-time ratios
(steadier than wall time on a shared machine). The table is printed and written to bench/RESULTS.md
(with --quick: only when --output is given) with the command, date and machine; the report's
hand-written part, from its "## History" heading on, is kept. --profile adds, for the engine owner,
a cProfile of the sqlprovider listing, the listing's cost built up step by step (down to a minimal
apsw virtual table), and an import-time breakdown of the cold start. Exit status: 1 if a benchmark
failed to run (or, with --strict, if a target is missed). Servers listen on 127.0.0.1 only and are
stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import gc
import io
import json
import os
import platform
import pstats
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
import requests

from servers import GeneratedWebhooks, Registry, RegistryServer, webhook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TABLE = "databricks_workspace.ml.model_registry_webhooks"
LIST_PATH = "/api/2.0/mlflow/registry-webhooks/list"
CREATE_PATH = "/api/2.0/mlflow/registry-webhooks/create"
TOKEN = "x"
#: Where the hand-written part of RESULTS.md starts (earlier figures, before/after notes): kept on rewrite.
HISTORY = "## History"
NAMES = ("listing", "economy", "fanout", "prefetch", "writes", "coldstart", "memory")


@dataclass(frozen=True)
class Sizes:
    listing: int = 10_000
    economy: int = 2_500
    fanout_widths: tuple[int, ...] = (8, 9, 32, 100)  # 8: the engine's default pool; 9: one more than it
    fanout_rows: int = 100  # per workspace: one page, so the figure is about concurrency, not row throughput
    fanout_latency: float = 0.100
    writes: int = 500
    writes_latency: float = 0.020
    memory: int = 100_000
    prefetch_rows: int = 10_000  # pages of 1000
    prefetch_latencies: tuple[float, ...] = (0.050, 0.100)


FULL = Sizes()
QUICK = Sizes(listing=1_000, fanout_widths=(8, 9), fanout_latency=0.020, writes=24, writes_latency=0.005, memory=3_000,
              prefetch_rows=3_000, prefetch_latencies=(0.020,))


@dataclass
class Row:
    """One line of the results table."""

    bench: str
    what: str  # the figure, in words
    figure: str  # the candidate's median, formatted
    baseline: str  # the baseline's median (or the expected value), formatted
    ratios: list[float]  # per repeat (for memory: growth in MB)
    target: float | None  # the median must be <= this (or == for exact rows)
    exact: bool = False  # PASS only when the value equals the target
    unit: str = "x"
    note: str = ""
    error: str | None = None

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if self.target is None or not self.ratios:
            return "info"
        value = statistics.median(self.ratios)
        ok = value == self.target if self.exact else value <= self.target
        return "PASS" if ok else "MISS"

    def spread(self) -> str:
        if self.error or not self.ratios:
            return "-"
        fmt = (lambda v: f"{v:g}") if self.exact else (lambda v: f"{v:.2f}")
        low, mid, high = min(self.ratios), statistics.median(self.ratios), max(self.ratios)
        if self.exact or low == high:
            return f"{fmt(mid)}{self.unit}"
        return f"{fmt(low)} / {fmt(mid)} / {fmt(high)}{self.unit}"

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        if self.exact:
            return f"= {self.target:g}"
        return f"<= {self.target:g}{self.unit}"


@dataclass
class Context:
    """What the benchmarks share: sizes, repeats, the Databricks config file and what to stop at the end."""

    sizes: Sizes
    repeat: int
    workdir: Path
    profile: bool
    stack: contextlib.ExitStack
    profiles: dict[str, str] = field(default_factory=dict)  # deployment name -> server URL
    notes: list[str] = field(default_factory=list)  # extra sections for RESULTS.md (profiles)

    @property
    def config_file(self) -> Path:
        return self.workdir / "databrickscfg"

    def serve(self, name: str, registry: Registry) -> RegistryServer:
        """Start a server for `registry`, reachable as deployment_name = name; stopped at the end."""
        server = self.stack.enter_context(RegistryServer(registry))
        self.profiles[name] = server.url
        self.config_file.write_text("".join(f"[{n}]\nhost = {url}\ntoken = {TOKEN}\n\n"
                                            for n, url in self.profiles.items()))
        return server


# --- helpers ----------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, process CPU seconds, value)."""
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - started, time.process_time() - cpu_started, value


def ratios(candidate: list[float], baseline: list[float]) -> list[float]:
    """Per-repeat ratios (each repeat ran both back to back)."""
    return [a / b for a, b in zip(candidate, baseline)]


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:,.0f} ms"


def connect():
    import sqlprovider

    return sqlprovider.connect()


def select_all(deployment_sql: str) -> int:
    """SELECT * through sqlprovider on a fresh connection, every row fetched; returns the row count."""
    with connect() as conn:
        return sum(1 for _ in conn.execute(f"SELECT * FROM {TABLE} WHERE deployment_name {deployment_sql}"))


#: The listing's visible columns, in the engine's order (checked against the engine's rows before timing).
COLUMNS = ("id", "model_name", "creation_timestamp", "description", "events", "http_url_spec", "job_spec",
           "last_updated_timestamp", "status")


def _encode(value: Any) -> str:
    return orjson.dumps(value).decode()


def row_tuple(item: dict[str, Any]) -> tuple:
    """One listed item as the engine's row: the 9 visible columns, the 3 JSON ones re-encoded as compact text."""
    get = item.get
    return (get("id"), get("model_name"), get("creation_timestamp"), get("description"),
            _encode(item["events"]) if "events" in item else None,
            _encode(item["http_url_spec"]) if "http_url_spec" in item else None,
            _encode(item["job_spec"]) if "job_spec" in item else None,
            get("last_updated_timestamp"), get("status"))


def bare_pages(url: str, session: requests.Session) -> Iterator[list[dict[str, Any]]]:
    """Every page of a listing, parsed with orjson (as the engine parses them), one GET per page."""
    params: dict[str, Any] = {"max_results": 1000}
    for _ in range(100_000):  # bounded: far more pages than any benchmark serves
        answer = session.get(url + LIST_PATH, params=params, headers={"Authorization": f"Bearer {TOKEN}"},
                             timeout=60)
        answer.raise_for_status()
        payload = orjson.loads(answer.content)
        yield payload.get("webhooks", [])
        token = payload.get("next_page_token")
        if not token:
            return
        params["page_token"] = token


def bare_rows(url: str) -> Iterator[tuple]:
    """The honest baseline: a requests.Session reading every page, orjson, and the same row tuple per item."""
    with requests.Session() as session:
        for page in bare_pages(url, session):
            for item in page:
                yield row_tuple(item)


def bare_loop(url: str) -> int:
    """The listing's baseline, every row built and counted."""
    return sum(1 for _ in bare_rows(url))


def loose_loop(url: str) -> int:
    """The baseline before issue 19 (kept for the reference table): response.json() and no row tuples."""
    count = 0
    with requests.Session() as session:
        params: dict[str, Any] = {"max_results": 1000}
        for _ in range(100_000):
            answer = session.get(url + LIST_PATH, params=params, headers={"Authorization": f"Bearer {TOKEN}"},
                                 timeout=60)
            answer.raise_for_status()
            payload = answer.json()
            for _item in payload.get("webhooks", ()):
                count += 1
            token = payload.get("next_page_token")
            if not token:
                break
            params["page_token"] = token
    return count


def alternating(run: int, names: list[str]) -> list[str]:
    """The order clients run in repeat `run`: forward, then backward, so none always runs first (or last)."""
    return names if run % 2 == 0 else names[::-1]


def expect_rows(got: int, wanted: int, what: str) -> None:
    if got != wanted:
        raise RuntimeError(f"{what}: got {got} rows, expected {wanted}")


# --- 1. full listing ----------------------------------------------------------------------------------


def bench_listing(ctx: Context) -> list[Row]:
    n = ctx.sizes.listing
    registry = Registry(GeneratedWebhooks(n), token=TOKEN)
    registry.warm()
    server = ctx.serve("bench", registry)
    sql = f"SELECT * FROM {TABLE} WHERE deployment_name = 'bench'"
    try:
        from databricks.sdk import WorkspaceClient
    except ImportError:
        WorkspaceClient = None  # noqa: N806

    with connect() as conn:  # the baseline must build the very rows the engine answers, or it is not one
        if list(conn.execute(sql)) != list(bare_rows(server.url)):
            raise RuntimeError("the bare loop's row tuples differ from the engine's rows: fix row_tuple()")

    # Each client is made fresh, outside the timing; the timing covers the listing, every row read.
    def bare() -> Callable[[], int]:
        return lambda: bare_loop(server.url)

    def sdk() -> Callable[[], int]:
        client = WorkspaceClient(host=server.url, token=TOKEN)  # config discovery answered by the server
        return lambda: sum(1 for _ in client.model_registry.list_webhooks(max_results=1000))

    def ours() -> Callable[[], int]:
        conn = ctx.stack.enter_context(connect())
        return lambda: sum(1 for _ in conn.execute(sql))

    clients = {"bare": bare, "sqlprovider": ours}
    if WorkspaceClient is not None:
        clients["sdk"] = sdk
    wall: dict[str, list[float]] = {name: [] for name in clients}
    cpu: dict[str, list[float]] = {name: [] for name in clients}
    for run in range(ctx.repeat + 1):  # run 0 warms up (imports, caches) and is not counted
        for name in alternating(run, list(clients)):
            listing = clients[name]()
            seconds, cpu_seconds, count = timed_cpu(listing)
            expect_rows(count, n, name)
            if run:
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)

    what = f"SELECT * of {n:,} webhooks, 1 workspace"
    bare_label = "bare loop (requests, orjson, the same row tuples)"
    rows = []
    for base, label, target in (("sdk", "databricks-sdk list_webhooks()", 1.0), ("bare", bare_label, 1.0)):
        if base not in wall:
            rows.append(Row("listing", f"{what} vs {label}", ms(wall["sqlprovider"]), "-", [], target,
                            error="databricks-sdk is not installed"))
            continue
        rows.append(Row("listing", f"{what} vs {label}", ms(wall["sqlprovider"]), ms(wall[base]),
                        ratios(wall["sqlprovider"], wall[base]), target))
    for base, label in (("sdk", "databricks-sdk"), ("bare", "bare loop")):
        if base in cpu:
            rows.append(Row("listing", f"(process CPU time, same runs) vs {label}", ms(cpu["sqlprovider"]),
                            ms(cpu[base]), ratios(cpu["sqlprovider"], cpu[base]), 1.0 if base == "bare" else None,
                            note="" if base != "sdk" else
                            "CPU time of the whole process (its server threads included, the same work for every "
                            "client): less disturbed than wall time when the machine is shared"))
    if ctx.profile:
        ctx.notes.append(_reference_floor(server.url, n, ctx.repeat, ours()))
        listing = ours()
        profiler = cProfile.Profile()
        profiler.runcall(listing)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
        text = "\n".join(line for line in out.getvalue().splitlines() if line.strip())
        ctx.notes.append(f"### Profile: sqlprovider listing of {n:,} webhooks (cProfile, by own time)\n\n"
                         f"```\n{_trim_paths(text)}\n```")
    return rows


def _reference_floor(url: str, n: int, repeat: int, engine: Callable[[], int]) -> str:
    """The listing's costs built up step by step, down to a minimal apsw virtual table over the same pages.

    No planner, no checks: the bare loop's pages and row tuples, and Column() indexing the tuple.
    Reported with --profile, for the engine owner.
    """
    import apsw

    def pages() -> Iterator[list[dict[str, Any]]]:
        with requests.Session() as session:
            yield from bare_pages(url, session)

    class Cursor:
        def Filter(self, *args: Any) -> None:
            self.rows = bare_rows(url)
            self.rowid = 0
            self.Next()

        def Eof(self) -> bool:
            return self.row is None

        def Next(self) -> None:
            self.row = next(self.rows, None)
            self.rowid += 1

        def Rowid(self) -> int:
            return self.rowid

        def Column(self, number: int) -> Any:
            return self.rowid if number < 0 else self.row[number]

        def Close(self) -> None:
            pass

    class Table:
        def BestIndex(self, *args: Any) -> None:
            return None

        def Open(self) -> Cursor:
            return Cursor()

        def Disconnect(self) -> None:
            pass

        Destroy = Disconnect

    class Module:
        def Connect(self, *args: Any) -> tuple[str, Table]:
            return f"CREATE TABLE x({', '.join(COLUMNS)})", Table()

        Create = Connect

    db = apsw.Connection(":memory:")
    db.create_module("floor", Module(), eponymous=True)
    variants = {
        "bare loop (requests, orjson, row tuples): the baseline": lambda: bare_loop(url),
        "the loop before issue 19: response.json(), no tuples": lambda: loose_loop(url),
        "pages parsed with orjson, no row tuples": lambda: sum(len(page) for page in pages()),
        "apsw: minimal virtual table over the bare loop's rows": lambda: sum(
            1 for _ in db.execute("SELECT * FROM floor")),
        "sqlprovider's engine, SELECT * (the listing benchmark)": engine,
    }
    runs: dict[str, list[float]] = {label: [] for label in variants}
    for run in range(max(repeat, 3) + 1):  # interleaved and alternated, like the benchmarks; run 0 warms up
        for label in alternating(run, list(variants)):
            seconds, count = timed(variants[label])
            expect_rows(count, n, label)
            if run:
                runs[label].append(seconds)
    bare = runs[next(iter(variants))]
    lines = [f"{'variant':<58} {'median':>8} {'vs bare (median ratio)':>24}"]
    for label, seconds in runs.items():
        lines.append(f"{label:<58} {ms(seconds):>8} {statistics.median(ratios(seconds, bare)):>23.2f}x")
    db.close()
    return (f"### Reference: what a listing of {n:,} costs, step by step\n\n"
            "The baseline, lighter loops, a minimal virtual table over the baseline's rows (no planner, no "
            "checks; `_reference_floor` in bench/run.py), then the engine itself, all interleaved:\n\n```\n"
            + "\n".join(lines) + "\n```\n\nThe apsw line is what a virtual table pays when SQLite calls back "
            "into Python once per column of every row (`Column()`).")


def _trim_paths(text: str) -> str:
    for prefix in sorted({str(ROOT) + "/", str(Path(sys.prefix)) + "/", str(Path(sys.base_prefix)) + "/"},
                         key=len, reverse=True):
        text = text.replace(prefix, "")
    return text


# --- 2. request economy -------------------------------------------------------------------------------


def bench_economy(ctx: Context) -> list[Row]:
    n = ctx.sizes.economy
    registry = Registry([webhook(i) for i in range(n)], token=TOKEN)
    ctx.serve("econ", registry)
    items = list(registry.items)
    events = ("MODEL_VERSION_CREATED", "COMMENT_CREATED", "MODEL_VERSION_TAG_SET")
    matching = sum(1 for w in items if set(events) & set(w["events"]))
    if matching > 1000:
        raise RuntimeError(f"the events IN data set has {matching} matches, more than one page")
    where = f"FROM {TABLE} WHERE deployment_name = 'econ'"
    in_events = ", ".join(f"'{e}'" for e in events)
    first_page_id, second_page_id = items[5]["id"], items[1500]["id"]
    model3 = sum(1 for w in items if w.get("model_name") == "model-3")
    values = ", ".join(f"('econ', 'economy insert {i}', '[\"MODEL_VERSION_CREATED\"]', "
                       f"'{{\"url\": \"https://hooks.example.com/new/{i}\"}}')" for i in range(5))
    pages = -(-n // 1000)
    in_models = sum(1 for w in items if w.get("model_name") in ("model-1", "model-2"))
    # (statement, expected requests, rows it must answer or None, what it shows);
    # the listings run before the writes change the data set.
    cases = [
        (f"SELECT * {where} LIMIT 10", 1, 10, "LIMIT 10: one page of 10"),
        (f"SELECT * {where} LIMIT 10 OFFSET 5", 1, 10, "LIMIT/OFFSET: one page of 15"),
        (f"SELECT id {where} AND events IN ({in_events})", 1, matching, "events IN of 3: one listing, events repeated"),
        (f"SELECT id {where} AND model_name IN ('model-1', 'model-2')", 2, in_models,
         "model_name IN of 2: a listing each"),
        (f"SELECT * {where}", pages, n, f"full listing of {n:,}: pages of 1000"),
        (f"SELECT id {where} AND id = '{second_page_id}'", 2, 1, "id = ...: stops at the page that holds it"),
        (f"SELECT id {where} ORDER BY creation_timestamp DESC LIMIT 10", pages, 10, "ORDER BY ... LIMIT: every page"),
        (f"SELECT count(*) {where}", pages, 1, "count(*): every page"),
        (f"UPDATE {TABLE} SET description = 'keyed' WHERE deployment_name = 'econ' AND id = '{first_page_id}'",
         1, None, "keyed UPDATE: one PATCH, no listing"),
        (f"DELETE FROM {TABLE} WHERE deployment_name = 'econ' AND id = '{items[6]['id']}'",
         1, None, "keyed DELETE: one delete, no listing"),
        (f"DELETE FROM {TABLE} WHERE deployment_name = 'econ' AND id = '{items[7]['id']}' RETURNING id",
         2, 1, "keyed DELETE ... RETURNING: lists to the row's page, then deletes"),
        (f"UPDATE {TABLE} SET status = 'DISABLED' WHERE deployment_name = 'econ' AND model_name = 'model-3'",
         1 + model3, None, f"UPDATE by model_name: one listing + {model3} PATCHes"),
        (f"INSERT INTO {TABLE} (deployment_name, description, events, http_url_spec) VALUES {values}",
         5, None, "INSERT of 5 rows: one create each"),
        (f"EXEC {TABLE}.delete @id='{items[8]['id']}', @deployment_name='econ'", 1, None, "EXEC delete: one request"),
    ]
    rows = []
    with connect() as conn:
        for sql, expected, answer_rows, what in cases:
            registry.reset()
            row = Row("economy", what, "-", f"{expected} expected", [], float(expected), exact=True, unit="")
            rows.append(row)
            try:
                answered = sum(1 for _ in conn.execute(sql))
            except Exception as exc:  # noqa: BLE001 - reported in the table, the suite goes on
                row.error = f"{type(exc).__name__}: {exc}"
                continue
            got = registry.total
            detail = ", ".join(f"{count} {endpoint}" for endpoint, count in sorted(registry.counts.items()))
            row.figure = f"{got} request{'' if got == 1 else 's'} ({detail})"
            row.ratios = [float(got)]
            if answer_rows is not None and answered != answer_rows:
                row.error = f"answered {answered} rows, expected {answer_rows}"
    return rows


# --- 3. fan-out ---------------------------------------------------------------------------------------


def bench_fanout(ctx: Context) -> list[Row]:
    """One query over W workspaces vs a plain thread pool of width W listing the same workspaces."""
    from concurrent.futures import ThreadPoolExecutor

    s = ctx.sizes
    widths = s.fanout_widths
    urls: dict[str, str] = {}
    for i in range(1, max(widths) + 1):
        registry = Registry(GeneratedWebhooks(s.fanout_rows), latency=s.fanout_latency, token=TOKEN)
        registry.warm()
        urls[f"fan{i}"] = ctx.serve(f"fan{i}", registry).url
    names = list(urls)
    rows = []
    for width in widths:
        chosen = names[:width]
        in_sql = "IN (" + ", ".join(f"'{n}'" for n in chosen) + ")"

        def pool() -> int:
            with ThreadPoolExecutor(max_workers=width) as executor:
                return sum(executor.map(lambda name: bare_loop(urls[name]), chosen))

        clients = {"pool": pool, "sqlprovider": lambda: select_all(in_sql)}
        times: dict[str, list[float]] = {name: [] for name in clients}
        for run in range(ctx.repeat + 1):
            for name in alternating(run, list(clients)):
                seconds, count = timed(clients[name])
                expect_rows(count, s.fanout_rows * width, f"{name} over {width} workspaces")
                if run:
                    times[name].append(seconds)
        what = (f"SELECT * over {width} workspaces ({s.fanout_rows} webhooks each, "
                f"{s.fanout_latency * 1000:.0f} ms per request) vs a thread pool of {width}")
        rows.append(Row("fanout", what, ms(times["sqlprovider"]), ms(times["pool"]),
                        ratios(times["sqlprovider"], times["pool"]), 1.5))
    return rows


# --- 3b. prefetch ---------------------------------------------------------------------------------


def round_trip(url: str, session: requests.Session) -> float:
    """Seconds for one GET of the listing's first page of 1000, its body read (not parsed)."""
    started = time.perf_counter()
    answer = session.get(url + LIST_PATH, params={"max_results": 1000}, timeout=60,
                         headers={"Authorization": f"Bearer {TOKEN}"})
    answer.raise_for_status()
    _ = answer.content
    return time.perf_counter() - started


def bench_prefetch(ctx: Context) -> list[Row]:
    """A paged listing at a real round trip vs the sequential floor: pages x one round trip.

    Reading page after page, a listing cannot be faster than that floor; it reaches it when the next page
    is fetched while SQLite consumes the current one (prefetch), and is above it by the time spent on
    each page otherwise.
    """
    n = ctx.sizes.prefetch_rows
    pages = -(-n // 1000)
    rows = []
    for latency in ctx.sizes.prefetch_latencies:
        name = f"pre{int(latency * 1000)}"
        registry = Registry(GeneratedWebhooks(n), latency=latency, token=TOKEN)
        registry.warm()
        server = ctx.serve(name, registry)
        sql = f"SELECT * FROM {TABLE} WHERE deployment_name = '{name}'"
        conn = ctx.stack.enter_context(connect())
        floors, ours, requests_made = [], [], []
        with requests.Session() as session:
            for run in range(ctx.repeat + 1):
                def floor() -> float:
                    return pages * statistics.median(round_trip(server.url, session) for _ in range(3))

                def listing() -> float:
                    registry.reset()
                    seconds, count = timed(lambda: sum(1 for _ in conn.execute(sql)))
                    expect_rows(count, n, "prefetch listing")
                    requests_made.append(registry.total)
                    return seconds

                measured = {"floor": floor, "ours": listing}
                results = {label: measured[label]() for label in alternating(run, list(measured))}
                if run:
                    floors.append(results["floor"])
                    ours.append(results["ours"])
        if set(requests_made) != {pages}:
            raise RuntimeError(f"the listing made {sorted(set(requests_made))} requests per run, expected {pages}")
        rows.append(Row("prefetch", f"SELECT * of {n:,} webhooks ({pages} pages, {latency * 1000:.0f} ms per request) "
                                    f"vs pages x round trip", ms(ours), ms(floors), ratios(ours, floors), 1.05,
                        note=f"{pages} requests in every run (counted by the server); the floor's round trip "
                             f"is the median of 3 GETs of one page, measured in each repeat"))
    return rows


# --- 4. bulk writes -----------------------------------------------------------------------------------


def _insert_sql(n: int, fail_row: int | None = None) -> str:
    values = ", ".join(
        f"('writes', '{'bench-fail' if i == fail_row else f'row {i:05d}'}', '[\"MODEL_VERSION_CREATED\"]', "
        f"'{{\"url\": \"https://hooks.example.com/bulk/{i}\"}}')" for i in range(1, n + 1))
    return f"INSERT INTO {TABLE} (deployment_name, description, events, http_url_spec) VALUES {values}"


def bench_writes(ctx: Context) -> list[Row]:
    n, latency = ctx.sizes.writes, ctx.sizes.writes_latency
    registry = Registry([], latency=latency, token=TOKEN)
    server = ctx.serve("writes", registry)
    sql = _insert_sql(n) + " RETURNING id, description"
    wanted = [f"row {i:05d}" for i in range(1, n + 1)]

    def sequential() -> int:
        with requests.Session() as session:
            for i in range(1, n + 1):
                answer = session.post(server.url + CREATE_PATH, headers={"Authorization": f"Bearer {TOKEN}"},
                                      json={"description": f"row {i:05d}", "events": ["MODEL_VERSION_CREATED"],
                                            "http_url_spec": {"url": f"https://hooks.example.com/bulk/{i}"}},
                                      timeout=60)
                answer.raise_for_status()
        return n

    def insert() -> list[tuple]:
        with connect() as conn:
            return conn.execute(sql).fetchall()

    ours, base, in_order = [], [], []
    for run in range(ctx.repeat + 1):
        registry.items.clear()
        t_base, _ = timed(sequential)
        registry.items.clear()
        t_ours, returned = timed(insert)
        if len(returned) != n or len({r[0] for r in returned}) != n:
            raise RuntimeError(f"INSERT RETURNING gave {len(returned)} rows, expected {n} distinct ids")
        in_order.append([r[1] for r in returned] == wanted)
        if run:
            ours.append(t_ours)
            base.append(t_base)
    rows = [Row("writes", f"INSERT of {n} rows ({latency * 1000:.0f} ms per request) vs {n} sequential creates",
                ms(ours), ms(base), ratios(ours, base), 0.25),
            Row("writes", "RETURNING rows in statement order (every run, warm-up included)",
                f"{sum(in_order)} in order", f"{len(in_order)} expected", [float(sum(in_order))],
                float(len(in_order)), exact=True, unit="")]
    # One refused row in the middle: the error must name it (the other rows may have been applied).
    fail_row, total = min(13, n), min(max(n, 13), 40)
    registry.items.clear()
    import sqlprovider

    try:
        with connect() as conn:
            conn.execute(_insert_sql(total, fail_row)).fetchall()
        message, ok = "no error raised", False
    except sqlprovider.Error as exc:
        message = str(exc)
        ok = f"row {fail_row} of {total}" in message and "INVALID_PARAMETER_VALUE" in message
    rows.append(Row("writes", f"a refused row ({fail_row} of {total}) is reported by its row number",
                    "named" if ok else "not named", "named", [1.0 if ok else 0.0], 1.0, exact=True, unit="",
                    note=message[:300]))
    return rows


# --- 5. cold start ------------------------------------------------------------------------------------


def _console_script() -> str:
    beside = Path(sys.executable).parent / "sqlprovider"
    found = str(beside) if beside.exists() else shutil.which("sqlprovider")
    if not found:
        raise RuntimeError("the sqlprovider console script is not installed beside this Python or on PATH")
    return found


def _first_line(argv: list[str], expect: str) -> float:
    """Seconds from starting `argv` to the first line of its output that contains `expect` (unbuffered)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        seconds = None
        for line in proc.stdout:
            if expect in line:
                seconds = time.perf_counter() - started
                break
        out, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or seconds is None:
        raise RuntimeError(f"{shlex.join(argv)} failed ({proc.returncode}) or printed no {expect!r}: "
                           f"{err.strip()[:300]}")
    return seconds


def bench_coldstart(ctx: Context) -> list[Row]:
    """A fresh process to the first listed row: sqlprovider exec vs a script making the same GET with requests."""
    n = 100  # one page
    server = ctx.serve("cold", Registry(GeneratedWebhooks(n), token=TOKEN))
    first_id = webhook(0)["id"]
    ours_argv = [_console_script(), "exec", "-o", "jsonl", "-e", f"SELECT * FROM {TABLE} WHERE deployment_name = 'cold'"]
    script = ("import requests; "
              f"answer = requests.get({server.url + LIST_PATH!r}, params={{'max_results': 1000}}, "
              f"headers={{'Authorization': 'Bearer {TOKEN}'}}, timeout=60); "
              "print(answer.json()['webhooks'][0])")
    base_argv = [sys.executable, "-c", script]
    clients = {"base": base_argv, "ours": ours_argv}
    times: dict[str, list[float]] = {name: [] for name in clients}
    for run in range(ctx.repeat + 1):
        for name in alternating(run, list(clients)):
            seconds = _first_line(clients[name], first_id)
            if run:
                times[name].append(seconds)
    if ctx.profile:
        proc = subprocess.run([sys.executable, "-X", "importtime", ours_argv[0], *ours_argv[1:]],
                              capture_output=True, text=True, timeout=120)
        ctx.notes.append("### Profile: cold start imports (`python -X importtime`, top 15 by cumulative µs)\n\n"
                         f"```\n{_top_imports(proc.stderr, 15)}\n```")
    return [Row("coldstart", f"first row of `sqlprovider exec -o jsonl -e \"SELECT * ...\"` ({n} webhooks, one "
                             "GET) vs a python -c script making the GET with requests",
                ms(times["ours"]), ms(times["base"]), ratios(times["ours"], times["base"]), 2.5)]


def _top_imports(stderr: str, count: int) -> str:
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        entries.append((int(cumulative), int(own), name))
    entries.sort(reverse=True)
    lines = [f"{'cumulative':>10} {'self':>8}  module"]
    lines += [f"{c:>10} {o:>8}  {n}" for c, o, n in entries[:count]]
    return "\n".join(lines)


# --- 6. memory ----------------------------------------------------------------------------------------


def bench_memory(ctx: Context) -> list[Row]:
    n = ctx.sizes.memory
    registry = Registry(GeneratedWebhooks(n), token=TOKEN)
    registry.warm()
    ctx.serve("mem", registry)
    growth, peaks, bases, seconds, resets = [], [], [], [], []
    for _ in range(ctx.repeat):
        proc = subprocess.run([sys.executable, str(HERE / "memory_child.py"), "mem"], capture_output=True,
                              text=True, timeout=600, env=os.environ.copy())
        if proc.returncode != 0:
            raise RuntimeError(f"memory probe failed: {proc.stderr.strip()[-500:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        expect_rows(result["rows"], n, "memory probe")
        growth.append((result["peak_kib"] - result["baseline_kib"]) / 1024)
        peaks.append(result["peak_kib"] / 1024)
        bases.append(result["baseline_kib"] / 1024)
        seconds.append(result["seconds"])
        resets.append(result["hwm_reset"])
    return [Row("memory", f"peak RSS while streaming SELECT * of {n:,} webhooks (growth over the baseline)",
                f"{statistics.median(peaks):.0f} MB peak", f"{statistics.median(bases):.0f} MB baseline",
                growth, 60.0, unit=" MB",
                note=f"stream took {statistics.median(seconds):.1f} s (median); peak = VmHWM "
                     + ("reset to the baseline via /proc/self/clear_refs" if all(resets) else
                        "NOT reset (clear_refs refused): it includes start-up"))]


BENCHMARKS: dict[str, Callable[[Context], list[Row]]] = {
    "listing": bench_listing, "economy": bench_economy, "fanout": bench_fanout, "prefetch": bench_prefetch,
    "writes": bench_writes, "coldstart": bench_coldstart, "memory": bench_memory,
}


# --- report -------------------------------------------------------------------------------------------


def machine() -> list[tuple[str, str]]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for package in ("sqlprovider", "apsw", "sqlglot", "requests", "urllib3", "orjson", "databricks-sdk"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/RESULTS.md"):
        commit += "-dirty"  # changed code; the report being rewritten does not count
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return [("nproc", str(cpus)), ("CPU", model), ("load average at the end (1/5/15 min)", load),
            ("OS", platform.platform()),
            ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
            ("packages", ", ".join(versions)), ("commit", commit)]


def table(rows: list[Row]) -> str:
    head = ["benchmark", "figure", "sqlprovider", "baseline", "ratio (or value) min / median / max", "target",
            "result"]
    body = [[r.bench, r.what, r.figure, r.baseline, r.spread(), r.target_text(), r.verdict] for r in rows]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in body]
    return "\n".join(lines)


def report(rows: list[Row], command: str, started: datetime.datetime, elapsed: float, ctx: Context) -> str:
    parts = ["# Benchmark results", "",
             "Produced by `bench/run.py` (issue 8). Every ratio is sqlprovider's time (or count) over a baseline "
             "measured in the same run; PASS/MISS compares the median with the target.", "",
             f"- command: `{command}`",
             f"- date: {started.isoformat(timespec='seconds')} (took {elapsed:.0f} s)",
             f"- repeats: {ctx.repeat} measured after one warm-up (economy and the write checks: one run; "
             f"counts are deterministic)"]
    parts += [f"- {k}: {v}" for k, v in machine()]
    parts += ["", table(rows), ""]
    details = [r for r in rows if r.error or r.note]
    if details:
        parts += ["Notes:", ""]
        parts += [f"- {r.bench} / {r.what}: {r.error or r.note}" for r in details]
        parts.append("")
    parts += [note + "\n" for note in ctx.notes]
    return "\n".join(parts)


def kept_history(output: Path) -> str:
    """The hand-written part of an existing report (from HISTORY on), carried over when it is rewritten."""
    with contextlib.suppress(OSError):
        old = output.read_text(encoding="utf-8")
        if HISTORY in old:
            return "\n" + old[old.index(HISTORY):]
    return ""


def isolated_environment(workdir: Path) -> None:
    """Only our config file and a scratch data directory: nothing from the user's Databricks setup."""
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            del os.environ[name]
    os.environ["DATABRICKS_CONFIG_FILE"] = str(workdir / "databrickscfg")
    os.environ["SQLPROVIDER_DATA_DIR"] = str(workdir / "data")
    (workdir / "databrickscfg").write_text("")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: proves the suite runs")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help=f"run only these: {', '.join(NAMES)}")
    parser.add_argument("--repeat", type=int, help="measured repeats per benchmark (default 5; 1 with --quick)")
    parser.add_argument("--output", type=Path, help="where to write the report (default bench/RESULTS.md; "
                                                     "with --quick, no file unless given)")
    parser.add_argument("--profile", action="store_true", help="add a cProfile of the listing and the cold start's imports")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 5)
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    output = args.output if args.output is not None else (None if args.quick else HERE / "RESULTS.md")
    command = shlex.join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    started, clock = datetime.datetime.now().astimezone(), time.perf_counter()

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sqlprovider-bench-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        isolated_environment(workdir)
        ctx = Context(QUICK if args.quick else FULL, repeat, workdir, args.profile, stack)
        for name in args.only or NAMES:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            bench_started = time.perf_counter()
            try:
                rows += BENCHMARKS[name](ctx)
            except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
                traceback.print_exc()
                rows.append(Row(name, "(did not run)", "-", "-", [], None, error=f"{type(exc).__name__}: {exc}"))
            print(f"  {name}: {time.perf_counter() - bench_started:.1f} s", file=sys.stderr, flush=True)
        stack.close()  # stop every server before the temporary directory goes
        elapsed = time.perf_counter() - clock
        text = report(rows, command, started, elapsed, ctx)
    print(text)
    if output is not None:
        output.write_text(text + kept_history(output), encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    if any(r.verdict == "ERROR" for r in rows):
        return 1
    if args.strict and any(r.verdict == "MISS" for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
