"""Command line: argument parsing only; each sub-command hands off to a module."""

from __future__ import annotations

import argparse
import sys


def port(text: str) -> int:
    """A TCP port number 0-65535 from the command line (0: any free port). As an argparse type its
    ValueError reads `invalid port value: '70000'`. Here rather than in webhooks.httpd, so that building
    the parser does not import http.server."""
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"port must be 0-65535, not {value}")
    return value


def count(text: str) -> int:
    """A whole number of at least 1 from the command line."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """A number of seconds, 0 or more, from the command line."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds (0 or more), not {text!r}")
    return value


def _add_retry_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retry-timeout", type=seconds, metavar="SECONDS",
                   help="how long one request may keep being retried (429, 503, dropped connections; default 300, "
                        "or $SQLPROVIDER_RETRY_TIMEOUT)")


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    """What `exec` and `shell` pass to sqlprovider.connect()."""
    p.add_argument("-d", "--deployment", metavar="NAME",
                   help="default workspace for statements that name none (they may still name others)")
    p.add_argument("--max-affected", type=count, metavar="N",
                   help="refuse, before anything is sent, an INSERT/UPDATE/DELETE that would write more than N rows")
    _add_retry_timeout(p)


def _connect_options(args: argparse.Namespace) -> dict[str, object]:
    options = {"deployment": args.deployment, "max_affected": args.max_affected, "dry_run": args.dry_run}
    return {name: value for name, value in options.items() if value is not None}


def _add_sandbox(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider sandbox ...`: the local workspace server (see sqlprovider.sandbox)."""
    def fault(text: str):
        """KIND[:COUNT[:ENDPOINT]] -> FaultSpec."""
        from sqlprovider.sandbox import FaultSpec

        kind, count, endpoint, *extra = text.split(":") + ["", ""]
        if (count and not count.isdigit()) or any(extra):
            raise argparse.ArgumentTypeError(f"expected KIND[:COUNT[:ENDPOINT]], not {text!r}")
        try:
            return FaultSpec(kind, int(count or 1), endpoint or None)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def run(args: argparse.Namespace) -> int:
        from sqlprovider.sandbox.serve import serve

        return serve(host=args.host, port=args.port, data_path=args.data, token=args.token,
                     client_id=args.client_id, client_secret=args.client_secret, token_ttl=args.token_ttl,
                     latency=args.latency, faults=args.fault)

    p = subparsers.add_parser("sandbox", help="the local sandbox workspace",
                              description="A local server that speaks the Databricks registry-webhooks API.")
    commands = p.add_subparsers(dest="sandbox_command", metavar="COMMAND", required=True)
    s = commands.add_parser("serve", help="serve the sandbox workspace until Ctrl-C",
                            description="Serve the registry-webhooks API on HTTP, with state in a SQLite file. "
                                        "Prints the base URL and the bearer token on start.")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; others need --token)")
    s.add_argument("--port", type=port, default=8765, help="port (default: 8765; 0 picks a free one)")
    s.add_argument("--data", metavar="PATH", help="SQLite file (default: sandbox.db in the user's data directory)")
    s.add_argument("--token", help="the bearer token to accept (default: a random one, printed on start)")
    s.add_argument("--client-id", metavar="ID", help="OAuth M2M client id (with --client-secret)")
    s.add_argument("--client-secret", metavar="SECRET", help="OAuth M2M client secret (with --client-id)")
    s.add_argument("--token-ttl", type=int, default=3600, metavar="SECONDS",
                   help="lifetime of OAuth tokens (default: 3600)")
    s.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="delay added to every API request")
    s.add_argument("--fault", type=fault, action="append", default=[], metavar="KIND[:COUNT[:ENDPOINT]]",
                   help="fail the next COUNT (default 1) API requests, to ENDPOINT only if given "
                        "(KIND: 429, 503, 500, html502, truncated, reset; ENDPOINT: list, create, update, delete, test); repeatable")
    s.set_defaults(handler=run)

    def emit(args: argparse.Namespace) -> int:
        from sqlprovider.sandbox.emit import run as run_emit

        return run_emit(event=args.event, model_name=args.model, version=args.version, from_stage=args.from_stage,
                        to_stage=args.to_stage, comment=args.comment, url=args.url, token=args.token,
                        data_path=args.data)

    e = commands.add_parser("emit", help="simulate a registry event: deliver it to the matching webhooks",
                            description="Deliver EVENT to every ACTIVE webhook listening for it on the model "
                                        "(registry-wide webhooks included). A stage transition fires the generic "
                                        "and the stage-specific event. Prints one line per delivery.")
    e.add_argument("event", metavar="EVENT", help="an event name, e.g. MODEL_VERSION_TRANSITIONED_TO_PRODUCTION")
    e.add_argument("--model", required=True, metavar="NAME", help="the registered model")
    e.add_argument("--version", default="1", metavar="V", help="the model version (default: 1)")
    e.add_argument("--from-stage", metavar="S", help="transitions: the stage left (None, Staging, Production, Archived)")
    e.add_argument("--to-stage", metavar="T", help="transitions: the stage entered (implied by _TO_<STAGE> events)")
    e.add_argument("--comment", metavar="TEXT", help="the comment of the event")
    e.add_argument("--url", help="a running sandbox's base URL (with --token)")
    e.add_argument("--token", help="the running sandbox's bearer token (with --url)")
    e.add_argument("--data", metavar="PATH", help="without --url: an existing sandbox data file, as made by "
                                                  "`sandbox serve --data PATH` (default: the sandbox's default file)")
    e.set_defaults(handler=emit)


def _add_receive(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider receive`: a local webhook receiver that prints and verifies deliveries."""
    import os

    def run(args: argparse.Namespace) -> int:
        from sqlprovider.webhooks.receiver import run as receive

        return receive(host=args.host, port=args.port, secret=args.secret, path=args.path)

    p = subparsers.add_parser("receive", help="receive webhook deliveries locally and print them",
                              description="Accept webhook deliveries (POSTs) on PATH and print one line each: time, "
                                          "event, model, version, webhook id and whether the signature verified. "
                                          "Answers 401 when --secret is set and the signature is wrong.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=port, default=8080, help="port (default: 8080; 0 picks a free one)")
    p.add_argument("--secret", default=os.environ.get("SQLPROVIDER_WEBHOOK_SECRET") or None,
                   help="the webhook's secret, to verify X-Databricks-Signature "
                        "(default: $SQLPROVIDER_WEBHOOK_SECRET; without one, signatures are not checked)")
    p.add_argument("--path", default="/", help="the URL path deliveries are POSTed to (default: /)")
    p.set_defaults(handler=run)


def _add_exec(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider exec`: run statements from files, -e or stdin (see sqlprovider.cli.script)."""
    from sqlprovider.cli.output import FORMATS

    p = subparsers.add_parser("exec", help="run SQL statements from files, -e or stdin",
                              description="Run every statement in order (stdin when no FILE or -e is given); "
                                          "the first error stops the run with exit code 1 and names FILE:LINE.")
    p.add_argument("files", nargs="*", metavar="FILE", help="SQL files to run ('-' for stdin)")
    p.add_argument("-e", "--execute", action="append", default=[], metavar="SQL", help="SQL text to run (repeatable)")
    p.add_argument("-o", "--output", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("-f", "--outfile", metavar="OUTFILE", help="write results to this file instead of stdout")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="fill {{ NAME }} placeholders (repeatable; overrides --vars-file)")
    p.add_argument("--vars-file", metavar="FILE.json", help="placeholder values from a JSON object")
    p.add_argument("--dry-run", action="store_true",
                   help="print the requests each statement would make (stderr); send no mutating request")
    _add_connection_options(p)
    p.set_defaults(handler=_run_exec)


def _run_exec(args: argparse.Namespace) -> int:
    from sqlprovider.cli import script

    try:
        return script.execute(args.files, args.execute, fmt=args.output, outfile=args.outfile,
                              var_pairs=args.var, vars_file=args.vars_file, options=_connect_options(args))
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        script.silence_stdout()
        return 1
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"sqlprovider: error: cannot write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _add_shell(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider shell`: the interactive REPL (see sqlprovider.cli.shell)."""

    def run(args: argparse.Namespace) -> int:
        from sqlprovider.cli import shell

        return shell.run(options=_connect_options(args))

    p = subparsers.add_parser("shell", help="the interactive SQL shell (sqlite3-style, with EXEC and DESCRIBE)",
                              description="An interactive shell: statements end with ';', dot-commands as in "
                                          "sqlite3 (.help, .mode markdown, .read FILE, .dryrun on). Reads "
                                          "stdin when it is not a terminal; exit code 1 if a statement failed.")
    p.add_argument("--dry-run", action="store_true",
                   help="start with .dryrun on: print requests, send no mutating request")
    _add_connection_options(p)
    p.set_defaults(handler=run)


def _add_snapshot(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider snapshot`: the resources as a plain SQLite file (see sqlprovider.adapters.snapshot)."""

    def duration(text: str) -> float:
        from sqlprovider.adapters.snapshot import parse_duration

        try:
            return parse_duration(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def run(args: argparse.Namespace) -> int:
        from sqlprovider.adapters import snapshot

        return snapshot.run(args.out, args.deployment, resources=args.resource, every=args.every, count=args.count)

    p = subparsers.add_parser("snapshot", help="write the resources' rows to a SQLite file for BI tools",
                              description="Write one table per resource (all rows of the named workspaces, with a "
                                          "deployment_name column) and a _snapshot status table to OUT.db, replacing "
                                          "it atomically. A workspace that fails keeps its previous rows; the error "
                                          "is reported (exit code 1 in a one-shot run).")
    p.add_argument("out", metavar="OUT.db", help="the SQLite file to write (replaced atomically)")
    p.add_argument("--deployment", action="append", required=True, metavar="NAME",
                   help="a workspace to copy (repeatable)")
    p.add_argument("--resource", action="append", metavar="NAME",
                   help="copy only this resource (repeatable; default: every resource, sandbox-only ones from "
                        "the sandbox deployment only)")
    p.add_argument("--every", type=duration, metavar="DURATION",
                   help="rewrite every DURATION (30s, 5m, 1h) until Ctrl-C; failures are reported and it goes on")
    p.add_argument("--count", type=count, metavar="N", help="with --every: stop after N snapshots")
    _add_retry_timeout(p)
    p.set_defaults(handler=run)


def _add_stack(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider stack build|test|teardown|plan`: stackql-deploy stacks (see sqlprovider.stacks)."""

    def run(args: argparse.Namespace) -> int:
        from sqlprovider.stacks.plan import command

        return command(args.stack_command, args.stack_dir, args.stack_env, env_pairs=args.env, env_file=args.env_file,
                       dry_run=args.dry_run, show_queries=args.show_queries, output_file=args.output_file,
                       out=sys.stdout, err=sys.stderr)

    p = subparsers.add_parser("stack", help="run a stackql-deploy stack: build, test, teardown or plan",
                              description="Apply STACK_DIR (stackql_manifest.yml and resources/*.iql) to the "
                                          "environment STACK_ENV, as stackql-deploy does; exit code 1 and one line "
                                          "per failing resource when any fails.")
    commands = p.add_subparsers(dest="stack_command", metavar="COMMAND", required=True)
    for name, text in (("build", "create or update every resource to its desired state"),
                       ("test", "check every resource is in its desired state (changes nothing)"),
                       ("teardown", "delete the stack's resources, in reverse order"),
                       ("plan", "show what build would do and the requests it would send (changes nothing)")):
        c = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        c.add_argument("stack_dir", metavar="STACK_DIR", help="the directory with stackql_manifest.yml")
        c.add_argument("stack_env", metavar="STACK_ENV", help="the environment, e.g. dev or prd")
        c.add_argument("-e", "--env", action="append", default=[], metavar="NAME=VALUE",
                       help="a variable for the templates (repeatable; wins over --env-file and the environment)")
        c.add_argument("--env-file", metavar="FILE", help="variables file (default: .env in the working directory)")
        c.add_argument("--dry-run", action="store_true", help="send no request that changes anything; print them")
        c.add_argument("--show-queries", action="store_true", help="print each query as it runs (stderr, masked)")
        c.add_argument("--output-file", metavar="FILE", help="write the stack's exports as JSON to FILE")
        c.set_defaults(handler=run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sqlprovider", description="Manage Databricks registry webhooks with SQL.")
    parser.add_argument("--debug", action="store_true",
                        help="log every HTTP request (secrets masked) and its answer's status to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_exec(subparsers)
    _add_shell(subparsers)
    _add_sandbox(subparsers)
    _add_receive(subparsers)
    _add_snapshot(subparsers)
    _add_stack(subparsers)
    return parser


def _debug_to_stderr() -> None:
    """--debug: sqlprovider's log records (each HTTP request, secrets masked) go to stderr."""
    import logging

    from sqlprovider.redact import redact_text

    def masked(record: logging.LogRecord) -> bool:  # defence in depth: the client masks secrets already
        record.msg, record.args = redact_text(record.getMessage()), ()
        return True

    logger = logging.getLogger("sqlprovider")
    for old in [h for h in logger.handlers if h.get_name() == "sqlprovider-debug"]:  # main() run twice in a process
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("sqlprovider-debug")
    handler.setFormatter(logging.Formatter("sqlprovider: debug: %(name)s: %(message)s"))
    handler.addFilter(masked)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sqlprovider` command: errors are one line on stderr, never a traceback."""
    from sqlprovider.errors import Error

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        _debug_to_stderr()
    if getattr(args, "retry_timeout", None) is not None:  # every connection the command opens reads it from there
        import os

        from sqlprovider.workspace.client import RETRY_TIMEOUT_ENV

        os.environ[RETRY_TIMEOUT_ENV] = repr(args.retry_timeout)
    try:
        return int(args.handler(args) or 0)
    except Error as exc:
        print(f"sqlprovider: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sqlprovider: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
