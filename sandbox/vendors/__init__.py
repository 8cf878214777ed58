"""Vendor-shaped sandboxes: the real APIs behind the tap's vendor profiles, on 127.0.0.1.

One module per vendor, each written from the facts of the vendor's OpenAPI document (paths,
query parameters, envelopes, paging, error bodies, rate-limit headers): ``rocketchat``,
``intercom``, ``jira`` (with the OAuth 2.0 token endpoint), ``statuspage_io``, ``opsgenie``.
Every request is checked against the parameters the vendor declares (``VendorAPI.violations``).
Tests start them with :class:`~sandbox.vendors.base.VendorServer`; ``python -m sandbox
--vendor jira`` serves one from the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.vendors.intercom import IntercomAPI
from sandbox.vendors.jira import JiraAPI
from sandbox.vendors.opsgenie import OpsgenieAPI
from sandbox.vendors.rocketchat import RocketChatAPI
from sandbox.vendors.statuspage_io import StatuspageAPI

if TYPE_CHECKING:
    from sandbox.vendors.base import VendorAPI

#: Each vendor's API, and the path its profile's base_url adds to the server's URL.
VENDORS: dict[str, tuple[type[VendorAPI], str]] = {
    "rocketchat": (RocketChatAPI, "/api/v1"),
    "intercom": (IntercomAPI, ""),
    "jira": (JiraAPI, ""),
    "statuspage_io": (StatuspageAPI, "/v1"),
    "opsgenie": (OpsgenieAPI, ""),
}
