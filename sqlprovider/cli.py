"""Command line: argument parsing only; each sub-command hands off to a module."""

from __future__ import annotations

import argparse
import sys


def _add_sandbox(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider sandbox ...`: the local workspace server (see sqlprovider.sandbox)."""
    # Filled in by the sandbox work: `sandbox serve` with its flags.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sqlprovider", description="Manage Databricks registry webhooks with SQL.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_sandbox(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
