"""Every printed form of a secret is masked (issue 22, case 4), at the redactor itself.

The redactor registers what a secret may be printed as apart from itself: its base64
forms, and for a URL secret (a webhook-style ``base_url``) the parts lines print alone.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from tap_generic_rest.redact import MASK, REDACTOR, redact

if TYPE_CHECKING:
    from collections.abc import Iterator

HOOK = "https://hooks.example.com/services/T0A1B2C3/B4D5E6F7/Zq7hK2mVx9TbW4cNp3Rs"
TOKEN = "Zq7hK2mVx9TbW4cNp3Rs"


@pytest.fixture(autouse=True)
def _secret() -> Iterator[None]:
    REDACTOR.clear()
    REDACTOR.add(HOOK, "plain-s3cret-value")
    yield
    REDACTOR.clear()


@pytest.mark.parametrize(
    "printed",
    [
        "GET /services/T0A1B2C3/B4D5E6F7/Zq7hK2mVx9TbW4cNp3Rs/messages -> 500",
        "next URL /services/T0A1B2C3/B4D5E6F7/Zq7hK2mVx9TbW4cNp3Rs?page=2",
        f"the hook {TOKEN} is unknown",
        f"hook {quote(TOKEN)} quoted",
        f"hook {quote(HOOK, safe='')} quoted whole",
        f"token {base64.b64encode(TOKEN.encode()).decode()} in base64",
        f"token {base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip('=')} url-safe",
        f"whole {base64.b64encode(HOOK.encode()).decode()} in base64",
        f"key {base64.b64encode(b'plain-s3cret-value').decode().rstrip('=')} unpadded",
        "services/T0A1B2C3/B4D5E6F7/Zq7hK2mVx9TbW4cNp3Rs without its slash",
    ],
)
def test_each_printed_form_of_a_secret_is_masked(printed: str) -> None:
    masked = redact(printed)
    assert MASK in masked
    assert TOKEN not in masked
    assert quote(TOKEN) not in masked
    assert "plain-s3cret-value" not in masked


def test_the_host_stays_readable() -> None:
    assert redact("hooks.example.com:443: connection refused") == (
        "hooks.example.com:443: connection refused"
    )


def test_user_info_and_query_values_of_a_secret_url_are_masked() -> None:
    REDACTOR.add("https://bot:pw-9d2Kq7Lm@api.example.com/v2?sig=sig4b8c2e1f9a7d&x=1")
    masked = redact("login pw-9d2Kq7Lm failed; signature sig4b8c2e1f9a7d refused")
    assert "pw-9d2Kq7Lm" not in masked
    assert "sig4b8c2e1f9a7d" not in masked
