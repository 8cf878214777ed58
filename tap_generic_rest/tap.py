"""The tap: its settings, and the streams of the configured source (checks: config/validate.py)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, MappingError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.singerlib import StateMessage
from typing_extensions import override

from tap_generic_rest import interrupt
from tap_generic_rest.cli.failure_lines import stream_map_error
from tap_generic_rest.config.refusals import catalog_errors
from tap_generic_rest.config.settings import env_settings, unknown_settings, with_numbers
from tap_generic_rest.config.validate import config_errors, configured_source
from tap_generic_rest.errors import ConfigError, InputFileError
from tap_generic_rest.http.authenticators import origin_of
from tap_generic_rest.http.rate_gate import RateGate
from tap_generic_rest.http.transport import DEFAULT_MAX_RESPONSE_MB
from tap_generic_rest.probe import DEFAULT_PROBE_PAGES
from tap_generic_rest.records.writer import FastSingerWriter
from tap_generic_rest.redact import MIN_SECRET_LENGTH, REDACTOR
from tap_generic_rest.sources import all_sources
from tap_generic_rest.spec import spec_settings
from tap_generic_rest.stream.prefetch import DEFAULT_MAX_CONCURRENT_REQUESTS
from tap_generic_rest.summary import RunSummary

if TYPE_CHECKING:
    from singer_sdk.authenticators import APIAuthenticatorBase
    from singer_sdk.streams import Stream

    from tap_generic_rest.source import Source

#: Settings that hold credentials: marked secret, and masked in every output.
SECRET_SETTINGS = ("api_token", "user_id", "api_key", "email")

COMMON_SETTINGS = th.PropertiesList(
    th.Property(
        "source",
        th.StringType,
        allowed_values=list(all_sources()),
        title="Source",
        description=(
            "Which API to extract: " + ", ".join(all_sources()) + " (required unless spec is set)."
        ),
    ),
    th.Property(
        "spec",
        th.StringType,  # or an object: see _settings_schema
        title="Spec",
        description=(
            "Any other REST API: a dlt rest_api configuration, as a path to a JSON, YAML or "
            "Python file, or as an object (see 'Your own API')."
        ),
    ),
    th.Property(
        "base_url",
        th.StringType,
        title="Base URL",
        description=(
            "http or https URL of the API; the source's paths are appended to it "
            "(e.g. https://chat.example.com/api/v1). Required, except that a spec may name it."
        ),
    ),
    th.Property(
        "inferred_schemas_dir",
        th.StringType,
        title="Inferred schemas folder",
        description=(
            "spec: folder where discovery writes each schema it inferred, as <resource>.json "
            "(point it at the spec's schemas/ folder to keep and edit them)."
        ),
    ),
    th.Property(
        "api_token",
        th.StringType,
        secret=True,
        title="API token",
        description="API token: chat (X-Auth-Token), tracker (basic-auth password), oncall.",
    ),
    th.Property(
        "user_id",
        th.StringType,
        secret=True,
        title="User ID",
        description="chat: the user id sent as X-User-Id with the token.",
    ),
    th.Property(
        "api_key",
        th.StringType,
        secret=True,
        title="API key",
        description="API key: helpdesk (query string) and statuspage (header).",
    ),
    th.Property(
        "email",
        th.StringType,
        secret=True,
        title="Email",
        description="tracker: the basic-auth user name.",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1),
        title="Page size",
        description="Records per page for every paginated stream (default: the source's).",
    ),
    th.Property(
        "auth_header",
        th.StringType,
        title="Auth header",
        description=(
            "statuspage and oncall: header that carries the key (default api_key; "
            "set Authorization for the real APIs)."
        ),
    ),
    th.Property(
        "auth_scheme",
        th.StringType,
        title="Auth scheme",
        description=(
            "statuspage and oncall: word put before the key in the header, "
            "e.g. OAuth or GenieKey (default none)."
        ),
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0),
        title="Max retries",
        description="Retries of a failed request (default: the source's policy).",
    ),
    th.Property(
        "max_wait_seconds",
        th.NumberType(minimum=0),
        default=300,
        title="Max wait (seconds)",
        description="Cap on any single wait between retries, server hints included.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0),
        default=300,
        title="Request timeout (seconds)",
        description=(
            "Deadline of one HTTP request, seconds: connect, headers and body "
            "(a request past it is retried as a timeout)."
        ),
    ),
    th.Property(
        "max_response_mb",
        th.NumberType(exclusive_minimum=0),
        default=DEFAULT_MAX_RESPONSE_MB,
        title="Max response size (MB)",
        description=(
            "Cap on the decoded size of one response, enforced while it is read and "
            "decompressed; a larger response fails the stream."
        ),
    ),
    th.Property(
        "max_concurrent_requests",
        th.IntegerType(minimum=1),
        default=DEFAULT_MAX_CONCURRENT_REQUESTS,
        title="Max concurrent requests",
        description=(
            "At most this many pages of one stream fetched at once where the paging allows "
            "it (offset and startAt), fewer when the server answers fast; records keep their "
            "order. 1 fetches one page at a time."
        ),
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User agent",
        description="User-Agent header sent with every request.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description=(
            "ISO 8601 date-time: incremental streams read changes from here when the state "
            "has no bookmark (and never from before it)."
        ),
    ),
    th.Property(
        "end_date",
        th.DateTimeType,
        title="End date",
        description=(
            "ISO 8601 date-time: incremental streams read one window, from start_date up to "
            "before end_date, whatever the bookmark, and leave every bookmark as it was "
            "(a backfill that never moves the live bookmark)."
        ),
    ),
    th.Property(
        "lookback_seconds",
        th.NumberType(minimum=0),
        default=0,
        title="Lookback (seconds)",
        description=(
            "Incremental streams read again this many seconds before the bookmark, for APIs "
            "whose indexing lags; records read again are emitted again."
        ),
    ),
    th.Property(
        "probe_pages",
        th.IntegerType(minimum=1),
        default=DEFAULT_PROBE_PAGES,
        title="Probe pages",
        description="--probe: pages fetched per stream at most (--probe-pages overrides).",
    ),
)


#: ``spec`` is a path or an object. Said with ``anyOf`` of typed schemas, not a type list:
#: the SDK reads an environment variable as JSON when a setting's type lists "object" (a path
#: is not JSON), and cannot read a bare "null" in ``anyOf`` (which its Property would add).
SPEC_TYPES = {"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}]}


def _settings_schema() -> dict[str, Any]:
    schema = COMMON_SETTINGS.to_dict()
    spec = schema["properties"]["spec"]
    spec.pop("type")
    spec.update(SPEC_TYPES)
    for source in all_sources().values():
        for prop in source.settings:
            schema["properties"].update(prop.to_dict())
    return schema


class TapGenericRest(Tap):
    """Singer tap for the five REST APIs described in the seeds, and for any spec'd one."""

    name = "tap-generic-rest"
    config_jsonschema = _settings_schema()
    # RECORD lines are serialised by the streams' fast path and flushed with the next
    # other message, instead of one flush per record (see tap_generic_rest/emit.py).
    message_writer_class = FastSingerWriter
    # Streams depend on the `source` setting, so discovery needs a valid config.
    dynamic_catalog = True

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Validate settings with one-line messages that never echo a value.

        The SDK's own messages include the offending value, which may be a secret.
        """
        self._register_secrets()
        self._config = with_numbers(self._config, self.config_jsonschema)
        read_by_spec = spec_settings(self._config)  # a spec may read any setting it names
        checked = {k: v for k, v in self._config.items() if k not in read_by_spec}
        if warning := unknown_settings(checked, self.full_settings_schema()):
            self.logger.warning("config: %s", warning)
        errors = config_errors(dict(self.config), self.config_jsonschema)
        if errors and raise_errors:
            raise ConfigError("; ".join(errors))
        for error in errors:
            self.logger.warning("config: %s", error)
        return errors

    @classmethod
    def full_settings_schema(cls) -> dict[str, Any]:
        """Every setting the tap reads: its own and the SDK's (stream maps, flattening)."""
        schema = {**cls.config_jsonschema}
        schema["properties"] = dict(schema.get("properties", {}))
        cls.append_builtin_config(schema)
        return schema

    @override
    @classproperty
    def _env_var_config(cls) -> dict[str, Any]:  # noqa: N805
        """Settings from the environment, each parsed by its type (``0.5`` for a number too)."""
        return env_settings(cls.full_settings_schema(), cls._env_var_prefix)

    @override
    def setup_mapper(self) -> None:
        """The SDK's stream maps and flattening, their errors in one line naming the setting.

        The catalog is checked first: one of another source would send its records
        under this source's schemas and keys.
        """
        if self.input_catalog is not None:
            errors = catalog_errors(self.input_catalog, self.source)
            if errors:
                raise InputFileError("; ".join(errors))
        try:
            super().setup_mapper()
        except MappingError as exc:
            raise ConfigError(stream_map_error(exc, self.config.get("stream_maps"))) from None
        except ConfigValidationError as exc:
            raise ConfigError("; ".join(exc.errors) or str(exc)) from None
        except NotImplementedError as exc:  # an option the SDK's stream maps do not support
            raise ConfigError(f"setting 'stream_maps': {exc}") from None

    def _register_secrets(self) -> None:
        # The raw values, before anything is logged; forms derived from them (the
        # basic-auth header) are registered by the source's auth spec as it builds.
        REDACTOR.add(*(str(self.config.get(s) or "") for s in SECRET_SETTINGS))
        for setting in SECRET_SETTINGS:
            if 0 < len(str(self.config.get(setting) or "")) < MIN_SECRET_LENGTH:
                self.logger.warning(
                    "setting '%s' is shorter than %d characters: it cannot be masked in output",
                    setting,
                    MIN_SECRET_LENGTH,
                )

    @override
    def _setup_signal_handlers(self) -> None:
        # The SDK's handler writes STATE from inside the handler and exits 0; see interrupt.py.
        interrupt.install()
        interrupt.on_stop(self._write_final_state)

    def _write_final_state(self) -> None:
        """After an interruption: a STATE covering exactly the records written.

        Written even when it equals the last STATE (the SDK's state writer would skip
        it): it is the message that closes the interrupted output.
        """
        self.message_writer.write_message(StateMessage(value=self.state))

    @cached_property
    def source(self) -> Source:
        """The configured source: a built-in one, or the one the ``spec`` setting describes."""
        return configured_source(self.config)

    @cached_property
    def origin(self) -> str:
        """Origin of base_url: the only one that ever receives credentials."""
        return origin_of(str(self.config.get("base_url") or self.source.base_url or ""))

    @cached_property
    def authenticator(self) -> APIAuthenticatorBase:
        """One authenticator shared by every stream of the run."""
        return self.source.auth.build(self.config, self.origin)

    @cached_property
    def summary(self) -> RunSummary:
        """The run's counters per stream; logged at the end of the sync."""
        return RunSummary(self.logger)

    @cached_property
    def rate_gate(self) -> RateGate:
        """One rate gate for every stream and worker of the run: they share the API's limits."""
        return RateGate()

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream_class(tap=self) for stream_class in self.source.streams]

    # --- command line: the SDK's, plus --probe ------------------------------------------

    @override
    @classmethod
    def get_singer_command(cls) -> click.Command:
        command = super().get_singer_command()
        for param in command.params:
            if isinstance(param, click.Option) and param.name == "about_format":
                param.help = "Output style of --about, or json for --probe."
        command.params.extend(
            [
                click.Option(
                    ["--probe"],
                    is_flag=True,
                    help=(
                        "Fetch a few pages of each selected stream and report requests, "
                        "paging decisions and schema drift; writes no RECORD or STATE. "
                        "Exit 0: fits, 1: drift, 2: failure."
                    ),
                ),
                click.Option(
                    ["--probe-pages"],
                    type=click.IntRange(min=1),
                    help=f"Pages per stream for --probe (default {DEFAULT_PROBE_PAGES}).",
                ),
            ]
        )
        return command

    @override
    @classmethod
    def invoke(
        cls,
        *,
        probe: bool = False,
        probe_pages: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Run the tap, or with ``--probe`` report on a sample of each stream and exit."""
        if probe and not kwargs.get("about"):
            # Deferred: only --probe needs the probe's engine.
            from tap_generic_rest.probe.run import run_probe_command  # noqa: PLC0415

            run_probe_command(
                cls,
                config=kwargs.get("config"),
                catalog=kwargs.get("catalog"),
                state=kwargs.get("state"),
                about_format=kwargs.get("about_format"),
                probe_pages=probe_pages,
            )
            return
        super().invoke(**kwargs)
