"""deployment_name -> a Workspace to send requests to: its host and the credentials that may go there.

Resolution order (the first that applies):

1. The name must be one DNS label, else it is refused before anything else happens.
2. 'sandbox': the embedded local workspace, started lazily once per process.
3. A profile of that name in the Databricks config file (DATABRICKS_CONFIG_FILE, default
   ~/.databrickscfg): its host, its credentials.
4. A profile whose host's first DNS label is the name (`host = https://dbc-1234.cloud.databricks.com`
   answers to 'dbc-1234'); several with different hosts are an error, the same host is broken by
   DATABRICKS_CONFIG_PROFILE, then [DEFAULT], then file order.
5. https://<name>.cloud.databricks.com, with the credentials of the DATABRICKS_CONFIG_PROFILE
   profile if its host is that one, else those of the environment.

Credentials go only to the host they were configured for: a profile's to that profile's host;
the environment's (DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID with DATABRICKS_CLIENT_SECRET) to the
host DATABRICKS_HOST names, or, when that is unset, to the cloud host derived in step 5 only.
Plain http:// comes only from a profile, never from the derived default.
"""

from __future__ import annotations

import atexit
import configparser
import functools
import io
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from sqlprovider.workspace import auth
from sqlprovider.workspace.auth import Credentials
from sqlprovider.workspace.client import RequestOptions, RetryPolicy, Workspace
from sqlprovider.errors import ConfigurationError

SANDBOX = "sandbox"
DEFAULT_PROFILE = "DEFAULT"
#: One DNS label; labels with '--' in 3rd-4th place are reserved (punycode 'xn--' and the like), so refused.
_LABEL = re.compile(r"(?![A-Za-z0-9]{2}--)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

_sandbox_lock = threading.Lock()
_sandbox = None  # the process-wide embedded Sandbox, once started


def config_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("DATABRICKS_CONFIG_FILE") or Path.home() / ".databrickscfg").expanduser()


def read_profiles(path: Path | None = None) -> dict[str, dict[str, str]]:
    """The profiles of a Databricks config file (INI); a missing (or unreadable) file, or a directory, has
    none (resolving a deployment refuses a directory: see locate).

    The file is read every time but parsed once per content, so resolving the workspaces of a query
    over several parses it once, and an edited file is seen at once."""
    path = path or config_file()
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    return {name: dict(values) for name, values in _parse_profiles(path, data).items()}


@functools.lru_cache(maxsize=16)
def _parse_profiles(path: Path, data: bytes) -> dict[str, dict[str, str]]:
    """Parse a config file's bytes as configparser reads the file (UTF-8 text, universal newlines)."""
    parser = configparser.ConfigParser(interpolation=None, default_section="__no_default__")
    try:
        parser.read_file(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"), source=path)
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read Databricks config file {path}: {str(exc).splitlines()[0]}") from None
    return {name: dict(parser[name]) for name in parser.sections()}


def check_name(name: str) -> None:
    """Refuse anything that is not a single DNS label (dots, slashes, ports, URLs, spaces, punycode...)."""
    if not isinstance(name, str) or not _LABEL.fullmatch(name):
        text = str(name)
        plain = len(text) <= 70 and text.isprintable() and text.isascii()
        shown = repr(text) if plain else ascii(text[:70]) + ("..." if len(text) > 70 else "")
        raise ConfigurationError(
            f"deployment_name {shown} is not a workspace name (one DNS label: letters, digits, '-', "
            f"at most 63 characters); use the first label of <name>.cloud.databricks.com, a profile name, or 'sandbox'")


def resolve(name: str, env: Mapping[str, str] | None = None, retry: RetryPolicy | None = None,
            options: RequestOptions | None = None) -> Workspace:
    """Build the Workspace for a deployment name. Makes no request, except that a profile handled by the
    Databricks SDK reads the workspace's configuration endpoint."""
    env = os.environ if env is None else env
    check_name(name)
    if name == SANDBOX:
        sandbox = embedded_sandbox()
        return Workspace(name, sandbox.url, auth.PersonalAccessToken(sandbox.token, "the embedded sandbox"),
                         retry, options=options)
    host, credentials = locate(name, env)
    return Workspace(name, host, auth.provider(credentials, host, name), retry, options=options)


def locate(name: str, env: Mapping[str, str]) -> tuple[str, Credentials]:
    """The host of a (checked) deployment name and the credentials that may be sent there."""
    path = config_file(env)
    if path.is_dir():  # not silently "no profiles": the user meant a file
        raise ConfigurationError(f"Databricks config file {path} is a directory, not a file: point "
                                 f"DATABRICKS_CONFIG_FILE at the config file itself (default ~/.databrickscfg)")
    profiles = read_profiles(path)
    chosen = name if name in profiles else _profile_by_label(name, profiles, env, path)
    if chosen is not None:
        host = profile_host(chosen, profiles[chosen], path)
        credentials = auth.from_profile(chosen, profiles[chosen], path) or _env_credentials(host, env, derived=False)
        if credentials is None:
            raise ConfigurationError(
                f"profile [{chosen}] in {path} has no credential; add token = <personal access token>, or "
                f"client_id and client_secret of a service principal")
        return host, credentials
    host = f"https://{name}.cloud.databricks.com"
    credentials = _default_profile_credentials(host, profiles, env, path) or _env_credentials(host, env, derived=True)
    if credentials is None:
        elsewhere = environment_host(env)
        why = f" (DATABRICKS_HOST is {elsewhere}, so the environment's credentials go only there)" if elsewhere else ""
        raise ConfigurationError(
            f"no credential for deployment {name!r} ({host}){why}: set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID "
            f"and DATABRICKS_CLIENT_SECRET, or add a profile [{name}] with host and token to {path}")
    return host, credentials


def profile_host(name: str, profile: Mapping[str, str], path: Path) -> str:
    """A profile's host as `scheme://host[:port]` (a bare host means https); refuse anything odd."""
    text = (profile.get("host") or "").strip()
    if not text:
        raise ConfigurationError(f"profile [{name}] in {path} has no host; add host = https://...")
    host = auth.origin(text)
    if host is None:
        raise ConfigurationError(f"profile [{name}] in {path} has host = {text!r}, which is not an http(s) URL of a "
                                 f"host (no user info, spaces or control characters); write host = https://<host>")
    return host


def _profile_by_label(name: str, profiles: Mapping[str, Mapping[str, str]], env: Mapping[str, str],
                      path: Path) -> str | None:
    """The profile whose host's first DNS label is `name` (IP-address hosts have no labels)."""
    matches = [p for p, values in profiles.items() if _first_label(values.get("host") or "") == name.lower()]
    hosts = {auth.origin(profiles[p]["host"]) for p in matches}
    if len(hosts) > 1:
        raise ConfigurationError(f"deployment_name {name!r} matches profiles with different hosts in {path} ("
                                 + ", ".join(f"[{p}]" for p in matches) + "); use the profile name instead")
    for preferred in (env.get("DATABRICKS_CONFIG_PROFILE"), DEFAULT_PROFILE):
        if preferred in matches:
            return preferred
    return matches[0] if matches else None


def _first_label(host: str) -> str | None:
    """The first DNS label of a host URL; None for an IP address (its last part is numeric, or it has ':')."""
    url = auth.origin(host)
    hostname = urlsplit(url).hostname if url else None
    if not hostname or ":" in hostname or hostname.rsplit(".", 1)[-1].isdigit():
        return None
    return hostname.split(".", 1)[0]


def _default_profile_credentials(host: str, profiles: Mapping[str, Mapping[str, str]], env: Mapping[str, str],
                                 path: Path) -> Credentials | None:
    """The DATABRICKS_CONFIG_PROFILE profile's credentials, if its host (or DATABRICKS_HOST) is `host`."""
    name = env.get("DATABRICKS_CONFIG_PROFILE")
    if not name:
        return None
    if name not in profiles:
        raise ConfigurationError(f"DATABRICKS_CONFIG_PROFILE is {name!r}, but {path} has no profile [{name}]")
    profile = profiles[name]
    if not auth.same_origin(profile.get("host") or environment_host(env) or "", host):
        return None
    return auth.from_profile(name, profile, path)


def _env_credentials(host: str, env: Mapping[str, str], derived: bool) -> Credentials | None:
    """The environment's credentials, if DATABRICKS_HOST is `host`, or is unset and `host` is the derived default."""
    configured = environment_host(env)
    applies = configured == auth.origin(host) if configured else derived
    return auth.from_env(env) if applies else None


def environment_host(env: Mapping[str, str]) -> str | None:
    """DATABRICKS_HOST as `scheme://host[:port]`, None when unset; a value that is no host is refused
    rather than ignored (the environment's credentials would then silently go nowhere)."""
    text = (env.get("DATABRICKS_HOST") or "").strip()
    if not text:
        return None
    host = auth.origin(text)
    if host is not None:
        return host
    try:
        parts = urlsplit(text if "://" in text else "https://" + text)
        bare = auth.origin(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}") if "@" in parts.netloc else None
    except ValueError:
        bare = None
    if bare is not None:
        raise ConfigurationError(f"DATABRICKS_HOST has user info (user:password@) before the host, which is never "
                                 f"sent: remove it (DATABRICKS_HOST={bare}) and give the credential in "
                                 f"DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET")
    raise ConfigurationError("DATABRICKS_HOST is not an http(s) URL of a host (no user info, spaces or control "
                             "characters); set it to the workspace URL, e.g. https://<workspace>.cloud.databricks.com, "
                             "or unset it")


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
