"""What every source's record generators share: random words, ids, times, vocabularies.

A record's random words come from its own stream (:func:`word_stream`), ids and times
from its 64-bit key (:func:`record_key`), so any record is a pure function of its index.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from hashlib import blake2b
from typing import Any, TypeVar

Record = dict[str, Any]
Rng = Callable[[], int]
"""Returns the next uniformly distributed 32-bit word of a record's random stream."""

T = TypeVar("T")

VARIANTS = 2048
"""Distinct bodies per stream; record i uses body i % VARIANTS."""

EXTRA_FIELD = "_sandbox_extra"
"""A field no schema declares, on every 8th record (i % 8 == 1), to test undeclared fields."""

WITNESS = 3
"""The variant whose body has every rare state (snoozed, quarantined...): record 3, then every
VARIANTS-th record, so the first records of any stream show every field with a value."""

_WORDS = struct.Struct("<16I").unpack
_M64 = (1 << 64) - 1
DAY_MS = 86_400_000
T0_MS = 1_546_300_800_000  # 2019-01-01T00:00:00Z: creation time of record 0
T_END_MS = 1_748_736_000_000  # 2025-06-01T00:00:00Z: record 0 of newest-first streams
_STEP_MS = 97_000  # one record about every 97 s, so creation times grow with the index
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --------------------------------------------------------------------------- primitives


def word_stream(base: Any) -> Iterator[int]:
    """Yield 32-bit words from ``base``'s digest, then from digests of ``base + counter``."""
    yield from _WORDS(base.digest())
    block = 0
    while True:
        block += 1
        more = base.copy()
        more.update(block.to_bytes(4, "little"))
        yield from _WORDS(more.digest())


def mix64(x: int) -> int:
    """SplitMix64 finaliser: a bijection on 64-bit integers, so distinct inputs never collide."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that, unlike ``hash()``, is the same in every process."""
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "little")


@cache
def stream_salt(seed: int, source: str, stream: str) -> int:
    """Salt that makes one stream's keys differ from another's, pre-shifted past the index."""
    return (stable_hash(f"{seed}:{source}:{stream}:salt") & 0xFFFFFF) << 40


def record_key(seed: int, source: str, stream: str, i: int) -> int:
    """The unique 64-bit key of record ``i`` (i < 2**40); other streams refer to it."""
    return mix64(stream_salt(seed, source, stream) | i)


_METEOR = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _encode(x: int, alphabet: str, width: int) -> str:
    base = len(alphabet)
    out = []
    for _ in range(width):
        x, d = divmod(x, base)
        out.append(alphabet[d])
    return "".join(out)


# 16 bits -> 3 distinct characters (55**3 > 2**16), 11 bits -> 2: ids without divisions.
_M3 = [_encode(n, _METEOR, 3) for n in range(1 << 16)]
_M2 = [_encode(n, _METEOR, 2) for n in range(1 << 11)]


def meteor_id(key: int) -> str:
    """17-character id like Meteor's ``Random.id()``; the first 12 characters encode the key."""
    tail = (key * 0x9E3779B97F4A7C15) >> 64  # cheap: the tail need not be independent
    m3 = _M3
    return (
        m3[key & 0xFFFF]
        + m3[(key >> 16) & 0xFFFF]
        + m3[(key >> 32) & 0xFFFF]
        + m3[key >> 48]
        + m3[tail & 0xFFFF]
        + _M2[(tail >> 16) & 0x7FF]
    )


def base36_id(key: int) -> str:
    """13-character lowercase alphanumeric id, as statuspage uses."""
    return _encode(key, _B36, 13)


def uuid_like(key: int) -> str:
    """A version-4-looking UUID whose last 64 bits are the unique key."""
    hi = mix64(key ^ 0x9E3779B97F4A7C15)
    return (
        f"{hi >> 32:08x}-{(hi >> 16) & 0xFFFF:04x}-4{hi & 0xFFF:03x}-"
        f"{key >> 48:04x}-{key & 0xFFFFFFFFFFFF:012x}"
    )


def object_id(key: int, created_s: int) -> str:
    """24 hex digits like a MongoDB ObjectId: creation time, then the unique key."""
    return f"{created_s & 0xFFFFFFFF:08x}{key:016x}"


_HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_DAYS: dict[int, str] = {}


def iso_ms(ms: int) -> str:
    """``2023-02-20T22:10:12.733Z`` (UTC, milliseconds) without ``datetime.strftime``."""
    day, rem = divmod(ms, DAY_MS)
    sec, milli = divmod(rem, 1000)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    return f"{text}T{_HMS[sec]}.{milli:03d}Z"


def created_at(i: int, key: int) -> int:
    """Creation time (ms) of record ``i``: grows with ``i``, about one record every 97 s."""
    return T0_MS + i * _STEP_MS + key % _STEP_MS


def created_desc(i: int, key: int) -> int:
    """Creation time (ms) for newest-first streams (oncall alerts and incidents)."""
    return T_END_MS - i * _STEP_MS - key % _STEP_MS


def updated_at(created: int, key: int, max_days: int = 30) -> int:
    """A time up to ``max_days`` after ``created``, from other bits of the key."""
    return created + (key >> 17) % (max_days * DAY_MS)


def after_all_ms(size: int) -> int:
    """A time (ms) later than every generated time of streams of up to ``size`` records.

    The sandbox's mutation clock starts here, so changed and inserted records are the newest.
    """
    latest = max(T_END_MS + 2 * DAY_MS, T0_MS + size * _STEP_MS + 400 * DAY_MS)
    return (latest // DAY_MS + 1) * DAY_MS  # midnight: easy to read in tests and logs


def later_ms(r: Rng, ms: int, max_days: int = 30) -> int:
    """A random time up to ``max_days`` after ``ms`` (for times inside bodies)."""
    return ms + r() % (max_days * DAY_MS)


def pick(r: Rng, seq: tuple[T, ...]) -> T:
    """One element of ``seq``."""
    return seq[r() % len(seq)]


def maybe(r: Rng, value: T) -> T | None:
    """``value``, or None about one time in ten (the nullable fields of real APIs)."""
    return None if r() % 10 == 0 else value


def chance(r: Rng, percent: int) -> bool:
    """True ``percent`` times in a hundred."""
    return r() % 100 < percent


def rare(r: Rng, c: Ctx, percent: int) -> bool:
    """True ``percent`` times in a hundred, and always in the witness variant."""
    return c.variant == WITNESS or r() % 100 < percent


def some(r: Rng, seq: tuple[T, ...], most: int) -> list[T]:
    """Up to ``most`` distinct elements of ``seq``."""
    return list(dict.fromkeys(seq[r() % len(seq)] for _ in range(r() % (most + 1))))


# --------------------------------------------------------------------------- vocabularies
# fmt: off

FIRST = (
    ("Ana", "ana"), ("José", "jose"), ("Zoë", "zoe"), ("François", "francois"),
    ("Søren", "soren"), ("Łukasz", "lukasz"), ("Mária", "maria"), ("Yūki", "yuki"),
    ("芳", "fang"), ("娜", "na"), ("Олег", "oleg"), ("Αλέξης", "alexis"), ("Priya", "priya"),
    ("Chloé", "chloe"), ("Björn", "bjorn"), ("Minh", "minh"), ("민수", "minsu"),
    ("Ngozi", "ngozi"), ("Emily", "emily"), ("Liam", "liam"), ("Mateo", "mateo"),
    ("Aiko", "aiko"), ("Fatima", "fatima"), ("Noah", "noah"), ("Olivia", "olivia"),
    ("Sam 🌻", "sam"), ("Ingrid", "ingrid"), ("Raúl", "raul"), ("Siobhán", "siobhan"),
    ("Kwame", "kwame"), ("Hannah", "hannah"), ("Ömer", "omer"),
)
LAST = (
    ("Smith", "smith"), ("García", "garcia"), ("Müller", "muller"), ("Nowak", "nowak"),
    ("Østergaard", "ostergaard"), ("O'Brien", "obrien"), ("Dubois", "dubois"),
    ("Rossi", "rossi"), ("佐藤", "sato"), ("王", "wang"), ("Kowalski", "kowalski"),
    ("Çelik", "celik"), ("Иванов", "ivanov"), ("Silva", "silva"), ("Nakamura", "nakamura"),
    ("Hernández", "hernandez"), ("Nguyễn", "nguyen"), ("Kim", "kim"), ("Okafor", "okafor"),
    ("Johansson", "johansson"), ("Papadopoulos", "papadopoulos"), ("Patel", "patel"),
    ("Brown", "brown"), ("Lefèvre", "lefevre"),
)
WORDS = (
    "alpha", "support", "billing", "release", "incident", "design", "ops", "growth",
    "mobile", "backend", "frontend", "data", "platform", "security", "sales", "onboarding",
    "café", "naïve", "résumé", "données", "Überblick", "jalapeño", "日本語", "数据",
    "개발", "отчёт", "🚀", "✅", "🔥", "🎉", "latency", "deploy", "customer", "invoice",
    "weekly", "sync", "migration", "dashboard", "api", "queue", "cache", "the", "and", "for",
)
TEAM_NAMES = (
    "engineering", "support", "sales", "marketing", "équipe-ventes", "開発チーム", "growth 🚀",
    "infra", "design", "finance", "on-call", "data-science", "customer-success", "qa",
)
DOMAINS = ("example.com", "example.org", "mail.example.net", "exämple.de", "corp.example.io")
COUNTRIES = (
    ("United States", "US", "NA", "California", "San Francisco"),
    ("Germany", "DE", "EU", "Berlin", "Berlin"),
    ("France", "FR", "EU", "Île-de-France", "Paris"),
    ("Japan", "JP", "AS", "Tokyo", "東京"),
    ("Brazil", "BR", "SA", "São Paulo", "São Paulo"),
    ("Nigeria", "NG", "AF", "Lagos", "Lagos"),
    ("Poland", "PL", "EU", "Mazowieckie", "Kraków"),
    ("India", "IN", "AS", "Karnataka", "Bengaluru"),
)
TIME_ZONES = (
    "UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "America/Sao_Paulo",
    "Africa/Lagos", "Asia/Kolkata", "Europe/Paris",
)
LOCALES = ("en_US", "de_DE", "fr_FR", "ja_JP", "pt_BR", "pl_PL", "en_GB")
# fmt: on


def sentence(r: Rng, low: int = 3, high: int = 9) -> str:
    """A few words; some with accents, CJK or emoji."""
    words = WORDS
    n = len(words)
    text = " ".join([words[r() % n] for _ in range(low + r() % (high - low + 1))])
    return text[0].upper() + text[1:]


def person(r: Rng) -> tuple[str, str]:
    """A display name and an ASCII slug for usernames and e-mail addresses."""
    first, first_slug = pick(r, FIRST)
    last, last_slug = pick(r, LAST)
    return f"{first} {last}", f"{first_slug}.{last_slug}"


# --------------------------------------------------------------------------- streams


@dataclass(frozen=True, slots=True)
class Ctx:
    """What a generator needs besides the record index and its random words."""

    seed: int
    source: str
    stream: str
    part: str = ""
    part_index: int = 0
    variant: int = -1
    """The body being built (``i % VARIANTS``); -1 in patches, which must not depend on it."""

    def key(self, i: int) -> int:
        """The unique key of record ``i`` of this stream."""
        return record_key(self.seed, self.source, self.stream, i)

    def ref(self, stream: str, j: int) -> int:
        """The key of record ``j`` of another stream of the same source (a foreign key)."""
        return record_key(self.seed, self.source, stream, j)


Body = Callable[[Rng, Ctx], Record]
"""Builds the random, expensive half of a record (once per variant)."""
Patch = Callable[[Record, int, int, Ctx], None]
"""Fills the per-record fields of a shallow copy of a body: (record, i, key, ctx)."""


@lru_cache(maxsize=4096)
def referenced(seed: int, source: str, stream: str, j: int) -> Record:
    """Record ``j`` of a stream, cached, for other streams to copy fields of (read only)."""
    # Deferred: the streams module is made of the source modules, which import this one.
    from sandbox.data.streams import StreamData  # noqa: PLC0415

    return StreamData(seed, source, stream).rows(j, j + 1)[0]
