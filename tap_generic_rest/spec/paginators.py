"""A spec's paginators and error handlers as the engine's paging specs and retry policies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_generic_rest.http.retry_policy import RETRY_AFTER, SERVER_ERRORS, RetryPolicy
from tap_generic_rest.paging import (
    AutoPaging,
    BodyPaging,
    BodyPath,
    CursorPaging,
    DltOffsetPaging,
    Finder,
    LinkHeader,
    LinkPaging,
    PageNumberPaging,
    Paging,
    ResponseHeader,
    SinglePage,
    no_more,
)
from tap_generic_rest.spec.template import compile_template, is_template
from tap_generic_rest.spec.values import fail, integer, jsonpath, nonempty

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

PAGINATORS = (
    "auto",
    "offset",
    "page_number",
    "json_link",
    "json_response",
    "header_link",
    "header_cursor",
    "cursor",
    "single_page",
)
#: dlt's default retries: 429 and every 5xx, five attempts, waits doubling from 1 s.
DLT_DEFAULT_RETRY = RetryPolicy(
    statuses=SERVER_ERRORS | {429},
    max_retries=4,
    backoff="exponential",
    factor=1.0,
    hints=(RETRY_AFTER,),
)


def compile_paging(raw: Any, where: str) -> Paging:  # noqa: PLR0911  (one per dlt paginator)
    """The paging spec for a paginator; none named is dlt's ``auto`` (detected)."""
    if raw is None:
        return AutoPaging()
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, dict):
        raise fail(where, "must be an object with a 'type' or a paginator name")
    kind = raw.get("type", "auto")
    if kind == "auto":
        return AutoPaging()
    if kind == "single_page":
        return SinglePage()
    if kind in ("offset", "page_number"):
        return _in_body(_numbered(kind, raw, where), raw, kind, where)
    if kind in ("json_link", "json_response"):  # json_response: dlt's older name
        path = jsonpath(raw.get("next_url_path", "next"), f"{where}.next_url_path")
        return LinkPaging(BodyPath(path), empty_pages_go_on=True)
    if kind == "header_link":
        rel = nonempty(raw.get("links_next_key", "next"), f"{where}.links_next_key")
        return LinkPaging(LinkHeader(rel), empty_pages_go_on=True)
    if kind == "header_cursor":
        header = nonempty(raw.get("cursor_key", "next"), f"{where}.cursor_key")
        param = nonempty(raw.get("cursor_param", "cursor"), f"{where}.cursor_param")
        return CursorPaging(ResponseHeader(header), param, empty_pages_go_on=True)
    if kind == "cursor":
        return _in_body(_cursor(raw, where), raw, kind, where)
    raise fail(f"{where}.type", f"unknown paginator '{kind}' (known: {', '.join(PAGINATORS)})")


#: dlt's ``*_body_path`` options, by paginator: the query param each one replaces.
_BODY_PATHS = {
    "offset": (
        ("offset_param", "offset", "offset_body_path"),
        ("limit_param", "limit", "limit_body_path"),
    ),
    "page_number": (("page_param", "page", "page_body_path"),),
    "cursor": (("cursor_param", "cursor", "cursor_body_path"),),
}


def _in_body(paging: Paging, raw: Mapping[str, Any], kind: str, where: str) -> Paging:
    """``paging`` with the values dlt's ``*_body_path`` options name sent in the JSON body."""
    moved = []
    for param_key, default, body_key in _BODY_PATHS[kind]:
        if raw.get(body_key) is None:
            continue
        moved.append(
            (str(raw.get(param_key) or default), nonempty(raw[body_key], f"{where}.{body_key}"))
        )
    return BodyPaging(paging, tuple(moved)) if moved else paging


def _numbered(kind: str, raw: Mapping[str, Any], where: str) -> Paging:
    """Offset or page-number paging."""
    get = raw.get
    more = get("has_more_path")
    has_more_key = None if more is None else jsonpath(more, f"{where}.has_more_path")
    if kind == "offset":
        total = get("total_path", "total")
        total_key = jsonpath(total, f"{where}.total_path") if total else None
        maximum = get("maximum_offset")
        if (
            get("stop_after_empty_page", True) is False
            and total_key is None
            and maximum is None
            and has_more_key is None
        ):
            raise fail(
                where,
                "one of total_path, maximum_offset, has_more_path or stop_after_empty_page "
                "is needed",
            )
        return DltOffsetPaging(
            page_size=integer(get("limit"), f"{where}.limit", 1),
            offset_param=nonempty(get("offset_param") or "offset", f"{where}.offset_param"),
            limit_param=nonempty(get("limit_param") or "limit", f"{where}.limit_param"),
            total_key=total_key,
            start=integer(get("offset", 0), f"{where}.offset"),
            maximum_offset=None
            if maximum is None
            else integer(maximum, f"{where}.maximum_offset", 1),
            has_more_key=has_more_key,
            stop_after_empty_page=get("stop_after_empty_page", True) is not False,
        )
    total = get("total_path", "total")
    maximum = get("maximum_page")
    start = get("page")
    if (
        get("stop_after_empty_page", True) is False
        and not total
        and maximum is None
        and more is None
    ):
        raise fail(
            where,
            "one of total_path, maximum_page, has_more_path or stop_after_empty_page is needed",
        )
    return PageNumberPaging(
        page_param=nonempty(get("page_param") or "page", f"{where}.page_param"),
        base_page=integer(get("base_page", 0), f"{where}.base_page"),
        start=None if start is None else integer(start, f"{where}.page"),
        total_key=jsonpath(total, f"{where}.total_path") if total else None,
        maximum_page=None if maximum is None else integer(maximum, f"{where}.maximum_page", 1),
        has_more_key=has_more_key,
        stop_after_empty_page=get("stop_after_empty_page", True) is not False,
    )


def _cursor(raw: Mapping[str, Any], where: str) -> Paging:
    """The cursor paginator of dlt, or the seeds' template form (``cursor_value``)."""
    stop_text = raw.get("stop_condition")
    stop: Finder | None = (
        compile_template(stop_text, f"spec: {where}.stop_condition")
        if stop_text is not None
        else None
    )
    value = raw.get("cursor_value")
    if value is not None:
        if not is_template(value):
            raise fail(f"{where}.cursor_value", "expected a template '{{ response.get(...) }}'")
        find = compile_template(value, f"spec: {where}.cursor_value")
        if "cursor_param" not in raw:  # the seeds' form: the value is the next page's URL
            return LinkPaging(find, stop)
        return CursorPaging(find, nonempty(raw["cursor_param"], f"{where}.cursor_param"), stop)
    path = jsonpath(raw.get("cursor_path", "cursors.next"), f"{where}.cursor_path")
    param = nonempty(raw.get("cursor_param") or "cursor", f"{where}.cursor_param")
    more = raw.get("has_more_path")
    if more is not None and stop is None:
        stop = _NoMore(BodyPath(jsonpath(more, f"{where}.has_more_path")))
    go_on = raw.get("stop_after_empty_page", False) is not True  # dlt's cursor default: go on
    return CursorPaging(BodyPath(path), param, stop, empty_pages_go_on=go_on)


@dataclass(frozen=True)
class _NoMore:
    """Stops when the value at ``has_more_path`` says there are no more pages."""

    more: BodyPath

    def __call__(self, response: requests.Response) -> bool:
        return no_more(self.more(response))


def compile_retry(raw: Any, where: str) -> RetryPolicy:
    """The retry policy for an ``error_handler`` as the seeds write it."""
    if not isinstance(raw, dict):
        raise fail(where, "must be an object")
    codes = raw.get("retry_on_status_codes", sorted(DLT_DEFAULT_RETRY.statuses))
    if not isinstance(codes, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes
    ):
        raise fail(f"{where}.retry_on_status_codes", "must be a list of HTTP statuses")
    factor = raw.get("backoff_factor", DLT_DEFAULT_RETRY.factor)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 0:
        raise fail(f"{where}.backoff_factor", "must be a number of at least 0")
    return RetryPolicy(
        statuses=frozenset(codes),
        max_retries=integer(
            raw.get("max_retries", DLT_DEFAULT_RETRY.max_retries), f"{where}.max_retries"
        ),
        backoff="exponential",
        factor=float(factor),
        hints=(RETRY_AFTER,),
    )
