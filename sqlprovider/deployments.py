"""deployment_name -> a Workspace to send requests to.

Resolution order: 'sandbox' (the embedded local workspace, started lazily once per process),
a profile of that name in the Databricks config file, else https://<name>.cloud.databricks.com
with DATABRICKS_TOKEN. A name that is not a DNS label is refused before any request, so a
credential is never sent to a host nobody configured.
"""

from __future__ import annotations

import atexit
import configparser
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

from sqlprovider.client import RequestOptions, RetryPolicy, Workspace
from sqlprovider.errors import ConfigurationError

SANDBOX = "sandbox"
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

_sandbox_lock = threading.Lock()
_sandbox = None  # the process-wide embedded Sandbox, once started


def config_file() -> Path:
    return Path(os.environ.get("DATABRICKS_CONFIG_FILE") or Path.home() / ".databrickscfg").expanduser()


def read_profiles(path: Path | None = None) -> dict[str, dict[str, str]]:
    """The profiles of a Databricks config file (INI); a missing file has none."""
    path = path or config_file()
    parser = configparser.ConfigParser(interpolation=None, default_section="__no_default__")
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigurationError(f"cannot read Databricks config file {path}: {str(exc).splitlines()[0]}") from None
    return {name: dict(parser[name]) for name in parser.sections()}


def check_name(name: str) -> None:
    """Refuse anything that is not a single DNS label (dots, slashes, ports, URLs, spaces...)."""
    if not _LABEL.fullmatch(name):
        shown = name if len(name) <= 70 and name.isprintable() else repr(name[:70])
        raise ConfigurationError(
            f"deployment_name {shown!r} is not a workspace name (one DNS label: letters, digits, '-', "
            f"at most 63 characters); use the first label of <name>.cloud.databricks.com, a profile name, or 'sandbox'")


def resolve(name: str, env: Mapping[str, str] | None = None, retry: RetryPolicy | None = None,
            options: RequestOptions | None = None) -> Workspace:
    """Build the Workspace for a deployment name. Makes no request."""
    env = os.environ if env is None else env
    check_name(name)
    if name == SANDBOX:
        sandbox = embedded_sandbox()
        return Workspace(name, sandbox.url, _bearer(sandbox.token), retry, options=options)
    profiles = read_profiles()
    if name in profiles:
        profile = profiles[name]
        host, token = profile.get("host"), profile.get("token")
        if not host:
            raise ConfigurationError(f"profile [{name}] in {config_file()} has no host; add host = https://...")
        if not token:
            raise ConfigurationError(f"profile [{name}] in {config_file()} has no token; add token = <personal access token>")
        return Workspace(name, _normalise_host(host), _bearer(token), retry, options=options)
    token = env.get("DATABRICKS_TOKEN")
    if not token:
        raise ConfigurationError(
            f"no credential for deployment {name!r}: set DATABRICKS_TOKEN, or add a profile [{name}] with host "
            f"and token to {config_file()}")
    return Workspace(name, f"https://{name}.cloud.databricks.com", _bearer(token), retry, options=options)


def _bearer(token: str):
    header = {"Authorization": f"Bearer {token}"}
    return lambda: header


def _normalise_host(host: str) -> str:
    host = host.strip().rstrip("/")
    return host if "://" in host else f"https://{host}"


def embedded_sandbox():
    """The process-wide sandbox workspace, started on first use (data in the user's data directory)."""
    global _sandbox
    with _sandbox_lock:
        if _sandbox is None:
            from sqlprovider.sandbox import Sandbox

            _sandbox = Sandbox().start()
            atexit.register(stop_embedded_sandbox)
        return _sandbox


def stop_embedded_sandbox() -> None:
    """Stop the embedded sandbox if it runs (tests call this between data directories)."""
    global _sandbox
    with _sandbox_lock:
        if _sandbox is not None:
            _sandbox.stop()
            _sandbox = None
