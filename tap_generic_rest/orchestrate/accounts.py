"""The accounts file: which accounts of which sources run, into which target, with which state.

One YAML file, named by ``TAP_GENERIC_REST_ACCOUNTS``, describes every partition the Dagster
definitions offer. It is read once, when the definitions load, and checked whole: each problem
is one line naming the file and the entry at fault. Credentials are never written in it:
a credential setting (of the tap, one its Meltano plugin marks sensitive, or one the account's
spec reads through ``dlt.secrets``) must be a ``${NAME}`` reference to an environment
variable, resolved only when a partition runs, so the webserver that shows the definitions
never needs the secrets. ``${NAME}`` may appear in any other value too
(``https://${ACME_HOST}/api``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.sources import source_names
from tap_generic_rest.spec import spec_secrets
from tap_generic_rest.tap import SECRET_SETTINGS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: The environment variable that names the accounts file.
ACCOUNTS_ENV = "TAP_GENERIC_REST_ACCOUNTS"
#: ``${NAME}``: a value read from the environment when a partition runs.
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: Account names are partition keys and parts of state ids: no dots, no separators.
ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
#: Asset names as Dagster accepts them.
ASSET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
#: Setting names that hold a credential in any loader (``password``, ``aws_secret_key``...).
CREDENTIAL_NAME = re.compile(r"password|secret|token|api_?key|private_key|credential", re.I)
#: Keys of the file, and of each account.
TOP_KEYS = frozenset(
    {"accounts", "target", "state_backend", "project", "meltano", "extractor", "pools"}
    | {"backfill_start", "environment"}
)
ACCOUNT_KEYS = frozenset({"name", "source", "spec", "asset", "config", "load_schema"})


class AccountsError(ConfigError):
    """The accounts file is missing, unreadable or wrong; the message is one line."""


@dataclass(frozen=True)
class Account:
    """One partition: an account of one source (built-in, profile or spec)."""

    name: str
    asset: str
    config: Mapping[str, Any]
    load_schema: str
    origin: str  # ``source oncall`` or ``spec /path/x.yaml``: what the asset reads
    #: Its credential settings: the tap's, its Meltano plugin's sensitive ones, and those
    #: its spec (or vendor profile) reads through ``dlt.secrets``.
    secrets: frozenset[str] = field(default=frozenset())

    def is_secret(self, setting: str) -> bool:
        """Whether a setting of its config holds a credential (masked in every line)."""
        return setting in self.secrets or bool(CREDENTIAL_NAME.search(setting))

    def state_suffix(self, window: str | None = None) -> str:
        """The Meltano state id suffix: the asset and account, and the day of a backfill."""
        return ".".join(part for part in (self.asset, self.name, window) if part)


@dataclass(frozen=True)
class Accounts:
    """The whole accounts file, checked."""

    path: Path
    accounts: tuple[Account, ...]
    target: str
    target_config: Mapping[str, Any]
    state_backend: str
    project: Path
    meltano: str
    extractor: str
    environment: str  # Meltano's: part of every state id
    pools: Mapping[str, str]
    backfill_start: date
    secrets: frozenset[str] = field(default=frozenset())  # the tap's credential settings
    target_secrets: frozenset[str] = field(default=frozenset())  # the target's

    def is_target_secret(self, setting: str) -> bool:
        """Whether a setting of the target holds a credential (masked in every line)."""
        return setting in self.target_secrets or bool(CREDENTIAL_NAME.search(setting))

    def assets(self) -> dict[str, list[Account]]:
        """The accounts of each asset, in file order."""
        grouped: dict[str, list[Account]] = {}
        for account in self.accounts:
            grouped.setdefault(account.asset, []).append(account)
        return grouped

    def account(self, asset: str, name: str) -> Account:
        """The account ``name`` of ``asset``."""
        for account in self.accounts:
            if (account.asset, account.name) == (asset, name):
                return account
        raise AccountsError(f"{self.path}: no account {name!r} of {asset!r}")

    def pool(self, asset: str) -> str:
        """The Dagster concurrency pool of an asset's runs (one per vendor by default)."""
        return self.pools.get(asset, f"vendor-{asset}")


def load_accounts(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Accounts:
    """Read and check the accounts file (``path``, else the one named by the variable)."""
    if path is None:
        path = (env if env is not None else os.environ).get(ACCOUNTS_ENV)
        if not path:
            raise AccountsError(
                f"{ACCOUNTS_ENV} is not set: name the accounts file (see the README, "
                "'Many accounts, backfills, more machines')"
            )
    file = Path(path).expanduser()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise AccountsError(f"{file}: cannot read the accounts file ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise AccountsError(f"{file}: not valid YAML{where}") from None
    return parse_accounts(data, file.resolve())


def parse_accounts(data: Any, path: Path) -> Accounts:
    """The checked :class:`Accounts` of a loaded file (``path`` names it in errors)."""
    where = str(path)
    if not isinstance(data, dict):
        raise AccountsError(f"{where}: the accounts file must be a mapping with 'accounts'")
    _no_unknown(data, TOP_KEYS, where)
    base = path.parent
    project = (base / _text(data, "project", where, default=".")).resolve()
    if not (project / "meltano.yml").is_file():
        raise AccountsError(f"{where}: project: no meltano.yml in {project}")
    sensitive, default_environment = _project(project / "meltano.yml")
    target = data.get("target")
    if not isinstance(target, dict) or not isinstance(target.get("plugin"), str):
        raise AccountsError(f"{where}: target: needs a plugin (a loader of meltano.yml)")
    _no_unknown(target, frozenset({"plugin", "config"}), f"{where}: target")
    target_config = _config(target.get("config"), f"{where}: target.config")
    _refuse_literal_secrets(
        target_config, sensitive.get(target["plugin"], set()), f"{where}: target.config"
    )
    state_backend = _text(data, "state_backend", where)
    if state_backend.strip().lower() == "systemdb":
        raise AccountsError(
            f"{where}: state_backend: systemdb is one machine's SQLite file; give a backend "
            "every worker shares (s3://, gs://, azure://, postgresql://, or file:// on one machine)"
        )
    _refuse_literal_uri_password(state_backend, f"{where}: state_backend")
    extractor = _text(data, "extractor", where, default="tap-generic-rest")
    tap_secrets = set(SECRET_SETTINGS) | sensitive.get(extractor, set())
    raw = data.get("accounts")
    if not isinstance(raw, list) or not raw:
        raise AccountsError(f"{where}: accounts: a list of at least one account")
    accounts = tuple(
        _account(entry, f"{where}: accounts[{i}]", base, tap_secrets) for i, entry in enumerate(raw)
    )
    _check_groups(accounts, where)
    pools = _config(data.get("pools"), f"{where}: pools")
    for asset, pool in pools.items():
        if asset not in {a.asset for a in accounts} or not isinstance(pool, str) or not pool:
            raise AccountsError(f"{where}: pools.{asset}: an asset of the file and a pool name")
    start = data.get("backfill_start", date(2020, 1, 1))
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError:
            start = None
    if not isinstance(start, date):
        raise AccountsError(f"{where}: backfill_start: a date, YYYY-MM-DD")
    return Accounts(
        path=path,
        accounts=accounts,
        target=target["plugin"],
        target_config=target_config,
        state_backend=state_backend,
        project=project,
        meltano=_executable(_text(data, "meltano", where, default="meltano"), base),
        extractor=extractor,
        environment=_environment(data, default_environment, where),
        pools=pools,
        backfill_start=start,
        secrets=frozenset(tap_secrets),
        target_secrets=frozenset(sensitive.get(target["plugin"], set())),
    )


def _account(entry: Any, where: str, base: Path, secrets: set[str]) -> Account:
    if not isinstance(entry, dict):
        raise AccountsError(f"{where}: an account is a mapping with name and source (or spec)")
    name = entry.get("name")
    if not isinstance(name, str) or not ACCOUNT_NAME.match(name):
        raise AccountsError(
            f"{where}: name: lower-case letters, digits, '_' and '-' (it is a partition key)"
        )
    where = f"{where} ({name})"
    _no_unknown(entry, ACCOUNT_KEYS, where)
    config = dict(_config(entry.get("config"), f"{where}: config"))
    for key in ("source", "spec"):
        if key in config:
            raise AccountsError(f"{where}: config.{key}: write {key} beside config, not in it")
    source, spec = entry.get("source"), entry.get("spec")
    if (source is None) == (spec is None):
        raise AccountsError(f"{where}: set exactly one of source and spec")
    if source is not None:
        if not isinstance(source, str) or source not in source_names():
            known = ", ".join(source_names())
            raise AccountsError(f"{where}: source: {source!r} is not one of {known}")
        config["source"], origin, default_asset = source, f"source {source}", source
    else:
        if not isinstance(spec, str) or not spec:
            raise AccountsError(f"{where}: spec: the path of a spec file")
        file = (base / spec).resolve()
        if not file.is_file():
            raise AccountsError(f"{where}: spec: no file {file}")
        config["spec"], origin = str(file), f"spec {file}"
        default_asset = re.sub(r"\W", "_", file.stem)
    asset = entry.get("asset", default_asset)
    if not isinstance(asset, str) or not ASSET_NAME.match(asset):
        raise AccountsError(f"{where}: asset: {asset!r} is not a name (letters, digits, '_')")
    secrets = secrets | spec_secrets(config)
    _refuse_literal_secrets(config, secrets, f"{where}: config")
    load_schema = entry.get("load_schema", f"{asset}_{name}".replace("-", "_"))
    if not isinstance(load_schema, str) or not load_schema:
        raise AccountsError(f"{where}: load_schema: a schema (or folder) name")
    return Account(name, asset, config, load_schema, origin, frozenset(secrets))


def _check_groups(accounts: Iterable[Account], where: str) -> None:
    """Accounts of one asset read the same thing; names are unique within an asset."""
    seen: dict[str, Account] = {}
    names: set[tuple[str, str]] = set()
    for account in accounts:
        first = seen.setdefault(account.asset, account)
        if first.origin != account.origin:
            raise AccountsError(
                f"{where}: asset {account.asset!r} reads {first.origin} for {first.name!r} "
                f"but {account.origin} for {account.name!r}: give one of them its own asset"
            )
        if (account.asset, account.name) in names:
            raise AccountsError(f"{where}: account {account.name!r} of {account.asset!r} twice")
        names.add((account.asset, account.name))


def _refuse_literal_secrets(config: Mapping[str, Any], secrets: set[str], where: str) -> None:
    """A credential must be a whole ``${NAME}`` reference (or empty: no password at all)."""
    for key, value in config.items():
        if key not in secrets and not CREDENTIAL_NAME.search(key):
            continue
        if value in (None, "") or (isinstance(value, str) and REFERENCE.fullmatch(value)):
            continue
        raise AccountsError(
            f"{where}.{key}: a credential is never written in the accounts file; "
            f"write a reference such as ${{{key.upper()}}} and set that environment variable"
        )


def _refuse_literal_uri_password(uri: str, where: str) -> None:
    """``postgresql://user:secret@host``: the password part must be a ``${NAME}`` reference."""
    if REFERENCE.fullmatch(uri):
        return
    try:
        password = urlsplit(REFERENCE.sub("ref", uri)).password
    except ValueError:
        raise AccountsError(f"{where}: not a URI") from None
    if password and password != "ref":  # noqa: S105 - "ref" stands for a reference
        raise AccountsError(
            f"{where}: the URI holds a password; write it as ${{NAME}} (the whole URI or "
            "the password) and set that environment variable"
        )


def _environment(data: Mapping[str, Any], default: str | None, where: str) -> str:
    """The file's Meltano environment, else the project's default: state ids need one."""
    if "environment" in data:
        return _text(data, "environment", where)
    if not default:
        raise AccountsError(
            f"{where}: environment: the Meltano project has no default_environment; name one "
            "(meltano run keeps state only within an environment)"
        )
    return default


def _project(meltano_yml: Path) -> tuple[dict[str, set[str]], str | None]:
    """The sensitive settings of each plugin of ``meltano.yml``, and its default environment."""
    try:
        project = yaml.safe_load(meltano_yml.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        raise AccountsError(f"{meltano_yml}: cannot read the Meltano project") from None
    plugins = [
        plugin
        for kind in (project.get("plugins") or {}).values()
        for plugin in kind or []
        if isinstance(plugin, dict)
    ]
    declared: dict[str, set[str]] = {
        str(plugin.get("name")): {
            s["name"]
            for s in plugin.get("settings") or []
            if s.get("sensitive") or s.get("kind") == "password"
        }
        for plugin in plugins
    }
    for plugin in plugins:  # an inherited plugin has its parent's settings
        parent = str(plugin.get("inherit_from"))
        if parent in declared:
            declared[str(plugin.get("name"))] |= declared[parent]
    default = project.get("default_environment")
    return declared, str(default) if default else None


def _executable(value: str, base: Path) -> str:
    """A name is looked up on PATH; a path is relative to the accounts file."""
    if "/" not in value:
        return value
    return str((base / Path(value).expanduser()).resolve())


def _config(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise AccountsError(f"{where}: a mapping of setting names to values")
    return value


def _text(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise AccountsError(f"{where}: {key}: a non-empty string")
    return value


def _no_unknown(data: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise AccountsError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )


def resolve(value: Any, env: Mapping[str, str], where: str) -> Any:
    """``value`` with every ``${NAME}`` replaced from ``env``; a missing variable is an error."""
    if isinstance(value, dict):
        return {k: resolve(v, env, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, env, where) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise AccountsError(f"{where}: environment variable {name} is not set")
        return env[name]

    return REFERENCE.sub(one, value)
