"""Deterministic record generators for the five sandbox sources.

Record ``i`` of a stream is a pure function of ``(seed, source, stream, part, i)``, so any page can
be rendered without generating the records before it, and :meth:`StreamData.rows` returns exactly
what the server serves.

Speed: building nested dicts in Python costs far more than drawing random numbers, so each record
is made of two halves. The *body* (names, texts, nested objects: the expensive, random part) is
built once per variant ``i % VARIANTS`` and cached; the *patch* then fills the fields that must be
unique or ordered per record (primary keys, names carrying the index, timestamps growing with the
index) from the record's 64-bit key. A shallow copy plus a patch costs a few microseconds. Bodies
set the patched fields to None as placeholders, which keeps the field order of the real APIs.
Patches never mutate a body's nested objects; they replace them.

Primary keys come from a 64-bit bijection of ``(stream salt, i)``: unique for any stream size.

Every property the tap's schemas declare is generated, nested ones included, so the sandbox looks
like the real APIs the schemas describe. Optional fields are null about one time in ten; fields
that only make sense in a rare state (a snoozed alert's ``snoozedUntil``, a quarantined
subscriber's ``quarantined_at``) follow that state, which the *witness* variant always has, so any
sample of the first records shows every field with a value.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
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
_DAY_MS = 86_400_000
_T0_MS = 1_546_300_800_000  # 2019-01-01T00:00:00Z: creation time of record 0
_T_END_MS = 1_748_736_000_000  # 2025-06-01T00:00:00Z: record 0 of newest-first streams
_STEP_MS = 97_000  # one record about every 97 s, so creation times grow with the index
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --------------------------------------------------------------------------- primitives


def _word_stream(base: Any) -> Iterator[int]:
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
def _salt(seed: int, source: str, stream: str) -> int:
    """Salt that makes one stream's keys differ from another's, pre-shifted past the index."""
    return (stable_hash(f"{seed}:{source}:{stream}:salt") & 0xFFFFFF) << 40


def record_key(seed: int, source: str, stream: str, i: int) -> int:
    """The unique 64-bit key of record ``i`` (i < 2**40); other streams refer to it."""
    return mix64(_salt(seed, source, stream) | i)


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
    day, rem = divmod(ms, _DAY_MS)
    sec, milli = divmod(rem, 1000)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    return f"{text}T{_HMS[sec]}.{milli:03d}Z"


def created_at(i: int, key: int) -> int:
    """Creation time (ms) of record ``i``: grows with ``i``, about one record every 97 s."""
    return _T0_MS + i * _STEP_MS + key % _STEP_MS


def created_desc(i: int, key: int) -> int:
    """Creation time (ms) for newest-first streams (oncall alerts and incidents)."""
    return _T_END_MS - i * _STEP_MS - key % _STEP_MS


def updated_at(created: int, key: int, max_days: int = 30) -> int:
    """A time up to ``max_days`` after ``created``, from other bits of the key."""
    return created + (key >> 17) % (max_days * _DAY_MS)


def after_all_ms(size: int) -> int:
    """A time (ms) later than every generated time of streams of up to ``size`` records.

    The sandbox's mutation clock starts here, so changed and inserted records are the newest.
    """
    latest = max(_T_END_MS + 2 * _DAY_MS, _T0_MS + size * _STEP_MS + 400 * _DAY_MS)
    return (latest // _DAY_MS + 1) * _DAY_MS  # midnight: easy to read in tests and logs


def later_ms(r: Rng, ms: int, max_days: int = 30) -> int:
    """A random time up to ``max_days`` after ``ms`` (for times inside bodies)."""
    return ms + r() % (max_days * _DAY_MS)


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
    return StreamData(seed, source, stream).rows(j, j + 1)[0]


def _chat_user_ref(r: Rng, c: Ctx, with_name: bool = False) -> dict[str, str]:
    """``{_id, username}`` of one of the first 20 users, as Rocket.Chat embeds users."""
    user = referenced(c.seed, "chat", "users", r() % 20)
    ref = {"_id": user["_id"], "username": user["username"]}
    if with_name:
        ref["name"] = user["name"]
    return ref


# chat (Rocket.Chat REST v1) ----------------------------------------------------


def chat_teams(r: Rng, c: Ctx) -> Record:
    """Body of a ``teams.list`` item."""
    return {
        "_id": None,
        "name": pick(r, TEAM_NAMES),
        "type": r() % 2,
        "createdAt": None,
        "createdBy": _chat_user_ref(r, c),
        "_updatedAt": None,
        "roomId": meteor_id(c.ref("rooms", r() % 10)),
        "rooms": r() % 12,
        "numberOfUsers": 1 + r() % 400,
    }


def chat_teams_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and name; creation times growing with the index."""
    created = created_at(i, key)
    rec["_id"] = meteor_id(key)
    rec["name"] = f"{rec['name']}-{i}"
    rec["createdAt"] = iso_ms(created)
    rec["_updatedAt"] = iso_ms(updated_at(created, key))


def _chat_room(r: Rng, c: Ctx, kind: str) -> Record:
    last_message = None
    if chance(r, 90):  # its times (and the room's ``lm``) are set by the patch
        last_message = {
            "_id": meteor_id(mix64(r() << 32 | r())),
            "rid": None,
            "msg": sentence(r),
            "ts": None,
            "u": _chat_user_ref(r, c, with_name=True),
            "_updatedAt": None,
        }
    team_main = chance(r, 10)
    kind = kind or pick(r, ("c", "c", "p", "d"))
    direct = kind == "d"
    members = [_chat_user_ref(r, c) for _ in range(2)] if direct else []
    return {
        "_id": None,
        "t": kind,
        "name": f"{pick(r, TEAM_NAMES)}-{pick(r, WORDS)}",
        "fname": "" if chance(r, 90) else None,
        "topic": maybe(r, sentence(r, 2, 6)),
        "announcement": maybe(r, sentence(r, 4, 10)),
        "ts": None,
        "_updatedAt": None,
        "lm": "" if last_message else None,
        "msgs": r() % 50_000,
        "usersCount": r() % 1_000,
        "u": _chat_user_ref(r, c, with_name=True),
        "ro": chance(r, 10),
        # true, false, or the system-message types hidden in the room (Rocket.Chat's IRoom)
        "sysMes": _SYSTEM_MESSAGES[c.variant % 3]
        if c.variant % 3 < 2
        else some(r, _HIDDEN_MESSAGE_TYPES, 3) or ["uj"],
        "default": chance(r, 5),
        "broadcast": chance(r, 5),
        "encrypted": chance(r, 15),
        "archived": chance(r, 5),
        "description": maybe(r, sentence(r)),
        "customFields": {} if chance(r, 70) else {"region": pick(r, ("emea", "amer", "apac"))},
        "lastMessage": last_message,
        "teamId": meteor_id(c.ref("teams", r() % 20)) if team_main or chance(r, 30) else None,
        "teamMain": team_main,
        "prid": meteor_id(c.ref("rooms", r() % 10)) if rare(r, c, 10) else None,
        "uids": [m["_id"] for m in members] or None,
        # public rooms of some servers carry an empty list
        "usernames": [m["username"] for m in members] or ([] if chance(r, 50) else None),
        "teamDefault": chance(r, 20),
        "featured": chance(r, 5),
        "muted": [_chat_user_ref(r, c)["username"] for _ in range(r() % 3)],
        "reactWhenReadOnly": chance(r, 30),
    }


_SYSTEM_MESSAGES: tuple[bool | list[str], ...] = (True, False)
_HIDDEN_MESSAGE_TYPES = ("uj", "ul", "ru", "au", "mute_unmute", "r", "ut", "wm", "rm")
"""System-message types a room can hide (``sysMes`` as a list)."""


def chat_rooms(r: Rng, c: Ctx) -> Record:
    """Body of a ``rooms.get`` item: a channel, private group or direct message."""
    return _chat_room(r, c, "")


def chat_channels(r: Rng, c: Ctx) -> Record:
    """Body of a ``channels.list`` item (public rooms only: no direct-message ``uids``)."""
    room = _chat_room(r, c, "c")
    del room["uids"]
    return room


def chat_rooms_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and name (``fname`` follows it); the last message points back at the room.

    The last message was sent when the room was last updated (``lm``, its ``ts``). Direct
    messages (``t`` d) have members (``uids``, ``usernames``), and no name or creator.
    """
    created = created_at(i, key)
    rec["_id"] = room_id = meteor_id(key)
    rec["name"] = name = f"{rec['name']}-{i}"
    if rec["fname"] is not None:
        rec["fname"] = name.replace("-", " ")
    if rec["t"] == "d" and i % 4 != 3:  # a few DMs keep a name, as imported ones do
        rec["name"] = rec["fname"] = rec["u"] = None
    rec["ts"] = iso_ms(created)
    rec["_updatedAt"] = updated = iso_ms(updated_at(created, key))
    if rec["lastMessage"] is not None:
        rec["lm"] = updated
        rec["lastMessage"] = {
            **rec["lastMessage"],
            "rid": room_id,
            "ts": updated,
            "_updatedAt": updated,
        }


_ROLES = (
    ("admin", "Users"),
    ("moderator", "Subscriptions"),
    ("leader", "Subscriptions"),
    ("owner", "Subscriptions"),
    ("user", "Users"),
    ("bot", "Users"),
    ("app", "Users"),
    ("guest", "Users"),
    ("anonymous", "Users"),
    ("livechat-agent", "Users"),
)


def chat_roles(r: Rng, c: Ctx) -> Record:
    """Body of a ``roles.list`` item."""
    return {
        "_id": None,
        "name": None,
        "description": maybe(r, sentence(r, 2, 6)),
        "scope": None,
        "protected": None,
        "mandatory2fa": chance(r, 10),
        "_updatedAt": None,
    }


def chat_roles_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """The built-in roles first, then custom ones."""
    name, scope = _ROLES[i] if i < len(_ROLES) else (f"custom-role-{i}", "Users")
    rec["_id"] = meteor_id(key)
    rec["name"] = name
    rec["scope"] = scope
    rec["protected"] = i < len(_ROLES)
    rec["_updatedAt"] = iso_ms(updated_at(created_at(i, key), key, 400))


def chat_subscriptions(r: Rng, c: Ctx) -> Record:
    """Body of a ``subscriptions.get`` item: a user's membership of a room."""
    room = r() % 10
    name = f"{pick(r, TEAM_NAMES)}-{room}"
    return {
        "_id": None,
        "rid": meteor_id(c.ref("rooms", room)),
        "name": name,
        "fname": maybe(r, name),
        "t": pick(r, ("c", "p", "d")),
        "u": _chat_user_ref(r, c, with_name=True),
        "open": chance(r, 80),
        "alert": chance(r, 30),
        "unread": r() % 40,
        "userMentions": r() % 5,
        "groupMentions": r() % 3,
        "ts": None,
        "ls": "" if chance(r, 90) else None,
        "_updatedAt": None,
        "roles": some(r, ("owner", "moderator", "leader"), 2),
        "lr": "" if chance(r, 70) else None,
        "f": chance(r, 20),
        "prid": meteor_id(c.ref("rooms", r() % 10)) if rare(r, c, 10) else None,
        "teamId": maybe(r, meteor_id(c.ref("teams", r() % 20))),
        "teamMain": chance(r, 10),
        "archived": chance(r, 5),
        "unreadAlert": pick(r, ("default", "default", "all", "mentions", "nothing")),
        "tunread": [meteor_id(mix64(r() << 32 | r())) for _ in range(r() % 3)],
    }


def chat_subscriptions_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id; times growing with the index (``ls``, last seen, stays null if it was)."""
    created = created_at(i, key)
    rec["_id"] = meteor_id(key)
    rec["ts"] = iso_ms(created)
    updated = updated_at(created, key)
    rec["_updatedAt"] = iso_ms(updated)
    if rec["ls"] is not None:
        rec["ls"] = iso_ms(updated)
    if rec["lr"] is not None:
        rec["lr"] = iso_ms(updated - key % 3_600_000)


def chat_users(r: Rng, c: Ctx) -> Record:
    """Body of a ``users.list`` item; ``username`` holds the slug until the patch."""
    name, slug = person(r)
    return {
        "_id": None,
        "username": slug,
        "name": name,
        "status": pick(r, ("online", "away", "busy", "offline", "offline")),
        "active": not chance(r, 10),
        "type": pick(r, ("user", "user", "user", "user", "bot", "app")),
        "roles": ["user", *some(r, ("admin", "moderator", "livechat-agent"), 1)],
        "emails": [{"address": pick(r, DOMAINS), "verified": chance(r, 70)}],
        "lastLogin": "" if chance(r, 90) else None,
        "createdAt": None,
        "_updatedAt": None,
        "nameInsensitive": name.lower(),
        "avatarETag": maybe(r, meteor_id(mix64(r() << 32 | r()))),
    }


def chat_users_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id, username and e-mail address; a login updates the user (``_updatedAt``)."""
    created = created_at(i, key)
    rec["_id"] = meteor_id(key)
    rec["username"] = username = f"{rec['username']}{i}"
    email = rec["emails"][0]
    rec["emails"] = [{"address": f"{username}@{email['address']}", "verified": email["verified"]}]
    rec["createdAt"] = iso_ms(created)
    rec["_updatedAt"] = updated = iso_ms(updated_at(created, key, 400))
    if rec["lastLogin"] is not None:
        rec["lastLogin"] = updated


# helpdesk (Intercom-like: unix-second times) ---------------------------------------


def _seconds(ms: int) -> int:
    return ms // 1000


def _intercom_list(kind: str, plural: str, ids: list[str]) -> dict[str, Any]:
    return {
        "type": "list",
        "data": [{"type": kind, "id": x, "url": f"/{plural}/{x}"} for x in ids],
        "url": None,
        "total_count": len(ids),
        "has_more": False,
    }


def helpdesk_contacts(r: Rng, c: Ctx) -> Record:
    """Body of a contact: nested lists carry ``total_count`` and ``has_more``."""
    name, slug = person(r)
    country, code, continent, region, city = pick(r, COUNTRIES)
    return {
        "id": None,
        "type": "contact",
        "role": pick(r, ("user", "user", "lead")),
        "external_id": "" if chance(r, 90) else None,
        "email": maybe(r, f"{slug}@{pick(r, DOMAINS)}"),
        "phone": maybe(r, f"+{1 + r() % 98} {r() % 1000:03d} {r() % 10_000_000:07d}"),
        "name": maybe(r, name),
        "owner_id": maybe(r, 400_000 + r() % 100),
        "created_at": None,
        "updated_at": None,
        "signed_up_at": 0 if chance(r, 90) else None,
        "last_seen_at": maybe(r, r() % (200 * 86_400)),
        "custom_attributes": {}
        if chance(r, 50)
        else {"plan": pick(r, ("free", "pro")), "seats": r() % 50},
        "tags": _intercom_list("tag", "tags", [str(7_000_000 + r() % 500) for _ in range(r() % 3)]),
        "companies": _intercom_list(
            "company", "companies", [f"{r():08x}{r():08x}{r():08x}" for _ in range(r() % 2)]
        ),
        "notes": _intercom_list(
            "note", "notes", [str(90_000_000 + r() % 10_000_000) for _ in range(r() % 3)]
        ),
        "location": {
            "type": "location",
            "country": country,
            "region": region,
            "city": city,
            "country_code": code,
            "continent_code": continent,
        },
        "unsubscribed_from_emails": chance(r, 10),
        "workspace_id": "ecahpwf5",
        "email_domain": None,  # follows the e-mail address
        "avatar": {
            "type": "avatar",
            "image_url": maybe(r, f"https://static.example.com/avatars/{r():08x}.png"),
        },
        "social_profiles": {
            "type": "list",
            "data": [
                {
                    "type": "social_profile",
                    "name": network,
                    "url": f"https://{network}.example/{slug}",
                }
                for network in some(r, ("twitter", "facebook", "linkedin"), 2)
            ],
        },
        "has_hard_bounced": chance(r, 3),
        "marked_email_as_spam": chance(r, 2),
        # offsets from creation until the patch adds them
        **{name: maybe(r, r() % (300 * 86_400)) for name in _CONTACT_TIMES},
        "language_override": maybe(r, pick(r, ("en", "de", "fr", "ja", "pt-BR"))),
        **_browser(r),
        **_app(r, c, "android", ("Pixel 8", "Galaxy S23"), ("13", "14")),
        **_app(r, c, "ios", ("iPhone 15", "iPad Air"), ("17.4", "16.7.2")),
    }


_CONTACT_TIMES = (
    "last_replied_at",
    "last_contacted_at",
    "last_email_opened_at",
    "last_email_clicked_at",
    "android_last_seen_at",
    "ios_last_seen_at",
)


def _browser(r: Rng) -> dict[str, str | None]:
    """The browser and operating system a contact last used (none: mobile-only contacts)."""
    if chance(r, 10):
        return dict.fromkeys(("browser", "browser_version", "browser_language", "os"))
    return {
        "browser": pick(r, ("Chrome", "Firefox", "Safari", "Edge")),
        "browser_version": f"{90 + r() % 40}.0.{r() % 6000}.{r() % 200}",
        "browser_language": pick(r, ("en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR")),
        "os": pick(r, ("Mac OS X", "Windows 10", "Linux", "iOS 17.4", "Android 14")),
    }


def _app(
    r: Rng, c: Ctx, platform: str, devices: tuple[str, ...], versions: tuple[str, ...]
) -> dict[str, Any]:
    """The mobile app fields of one platform: all set when the contact uses the app."""
    uses = rare(r, c, 30)
    fields = ("app_name", "app_version", "device", "os_version", "sdk_version")
    if not uses:
        return {f"{platform}_{name}": None for name in fields}
    return {
        f"{platform}_app_name": f"Example {platform.title()}",
        f"{platform}_app_version": f"{1 + r() % 5}.{r() % 10}.{r() % 10}",
        f"{platform}_device": pick(r, devices),
        f"{platform}_os_version": pick(r, versions),
        f"{platform}_sdk_version": f"{10 + r() % 6}.{r() % 10}.0",
    }


def helpdesk_contacts_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id, external id and e-mail; lists link back to the contact."""
    created = _seconds(created_at(i, key))
    rec["id"] = contact_id = object_id(key, created)
    if rec["external_id"] is not None:
        rec["external_id"] = f"ext-{i:07d}"
    email = rec["email"]
    if email is not None:
        local, _, domain = email.partition("@")
        rec["email"] = f"{local}{i}@{domain}"
    rec["created_at"] = created
    rec["updated_at"] = _seconds(updated_at(created * 1000, key))
    if rec["signed_up_at"] is not None:
        rec["signed_up_at"] = created
    if rec["last_seen_at"] is not None:
        rec["last_seen_at"] += created
    for name in _CONTACT_TIMES:
        if rec[name] is not None:
            rec[name] += created
    if rec["ios_app_name"] is None:
        rec["ios_last_seen_at"] = None
    if rec["android_app_name"] is None:
        rec["android_last_seen_at"] = None
    if email is not None:
        rec["email_domain"] = email.partition("@")[2]
    for field in ("tags", "companies", "notes"):
        rec[field] = {**rec[field], "url": f"/contacts/{contact_id}/{field}"}


_INDUSTRIES = ("Software", "Retail", "Finance", "Health", "Éducation", "Manufacturing", "Media")
_PLANS = (("269", "Starter"), ("270", "Pro"), ("271", "Premium"))
_COMPANY_KINDS = ("GmbH", "Inc.", "SARL", "Ltd", "株式会社", "S.A.")


def _tag_list(r: Rng) -> dict[str, Any]:
    """An Intercom ``tag.list`` of up to two tags."""
    tags = [r() % 500 for _ in range(r() % 3)]
    return {
        "type": "tag.list",
        "tags": [
            {"type": "tag", "id": str(7_000_000 + t), "name": WORDS[t % len(WORDS)]} for t in tags
        ],
    }


def _upload(r: Rng) -> dict[str, Any]:
    """An image attachment."""
    n = r() % 100_000
    return {
        "type": "upload",
        "name": f"screenshot-{n}.png",
        "url": f"https://files.example.com/{n}.png",
        "content_type": "image/png",
        "filesize": 1000 + r() % 900_000,
        "width": 640 + r() % 1280,
        "height": 480 + r() % 720,
    }


def helpdesk_companies(r: Rng, c: Ctx) -> Record:
    """Body of a company."""
    plan_id, plan_name = pick(r, _PLANS)
    return {
        "type": "company",
        "id": None,
        "company_id": None,
        "name": f"{pick(r, LAST)[0]} {pick(r, _COMPANY_KINDS)}",
        "created_at": None,
        "updated_at": None,
        # offsets from created_at until the patch: created in the customer's system before,
        # last request after
        "remote_created_at": maybe(r, r() % (400 * 86_400)),
        "last_request_at": maybe(r, r() % (200 * 86_400)),
        "monthly_spend": r() % 20_000,  # whole units: the real API truncates decimals
        "session_count": r() % 5000,
        "user_count": r() % 300,
        "size": maybe(r, r() % 5000),
        "website": maybe(r, f"https://{pick(r, LAST)[1]}.example.com"),
        "industry": maybe(r, pick(r, _INDUSTRIES)),
        "plan": {"type": "plan", "id": plan_id, "name": plan_name},
        "custom_attributes": {}
        if chance(r, 40)
        else {"account_tier": pick(r, ("smb", "mid-market", "enterprise")), "seats": r() % 900},
        "tags": _tag_list(r),
        "app_id": "ecahpwf5",
        "segments": {
            "type": "segment.list",
            "segments": [_segment(r) for _ in range(1 if c.variant == WITNESS else r() % 3)],
        },
    }


def _segment(r: Rng) -> dict[str, Any]:
    """A segment a company is in."""
    created = _seconds(_T0_MS) + r() % (300 * 86_400)
    return {
        "type": "segment",
        "id": f"{r():08x}{r():08x}{r():08x}",
        "name": pick(r, ("Active", "New", "Slipping away", "VIP 🌟", "Entreprises")),
        "created_at": created,
        "updated_at": created + r() % 86_400,
        "person_type": pick(r, ("contact", "user")),
        "count": maybe(r, r() % 5000),
    }


def helpdesk_companies_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique ids; times growing with the index (the body holds offsets from creation)."""
    created = _seconds(created_at(i, key))
    rec["id"] = object_id(key, created)
    rec["company_id"] = f"company-{i}"
    rec["created_at"] = created
    rec["updated_at"] = _seconds(updated_at(created * 1000, key))
    if rec["remote_created_at"] is not None:
        rec["remote_created_at"] = created - rec["remote_created_at"]
    if rec["last_request_at"] is not None:
        rec["last_request_at"] += created


def helpdesk_teams(r: Rng, c: Ctx) -> Record:
    """Body of a team."""
    return {
        "type": "team",
        "id": None,
        "name": pick(r, TEAM_NAMES),
        "admin_ids": (admins := [400_000 + r() % 100 for _ in range(1 + r() % 4)]),
        "admin_priority_level": maybe(
            r, {"primary_admin_ids": admins[:1], "secondary_admin_ids": admins[1:]}
        ),
        "assignment_limit": maybe(r, 5 + r() % 20),
        "distribution_method": maybe(r, pick(r, ("round_robin", "balanced"))),
    }


def helpdesk_teams_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Numeric string ids, names carrying the index."""
    rec["id"] = str(814_860 + i)
    rec["name"] = f"{rec['name']} {i}"


def helpdesk_conversations(r: Rng, c: Ctx) -> Record:
    """Body of a conversation with its source, contacts, tags and statistics objects.

    Times other than ``created_at`` and ``updated_at`` are offsets until the patch adds them.
    """
    name, slug = person(r)
    state = "snoozed" if c.variant == WITNESS else pick(r, ("open", "closed", "snoozed"))
    assigned = chance(r, 70)
    kind = pick(r, ("conversation", "conversation", "email", "push"))
    reopens = r() % 4
    closed_once = state == "closed" or reopens > 0
    return {
        "type": "conversation",
        "id": None,
        "title": maybe(r, sentence(r, 2, 6)),
        "created_at": None,
        "updated_at": None,
        "waiting_since": r() % 86_400 if state != "closed" and chance(r, 80) else None,
        "snoozed_until": 3600 + r() % (7 * 86_400) if state == "snoozed" else None,
        "open": state == "open",
        "state": state,
        "read": chance(r, 60),
        "priority": pick(r, ("priority", "not_priority", "not_priority")),
        "admin_assignee_id": 400_000 + r() % 100 if assigned else None,
        "team_assignee_id": 814_860 + r() % 20 if chance(r, 50) else None,
        "source": {
            "type": kind,
            "id": str(403_918_320 + r() % 1_000_000),
            "delivered_as": pick(r, ("customer_initiated", "admin_initiated")),
            "subject": maybe(r, sentence(r, 2, 5)),
            "body": f"<p>{sentence(r)}</p>",
            "author": {
                "type": "user",
                "id": f"{r():08x}{r():08x}{r():08x}",
                "name": name,
                "email": f"{slug}@{pick(r, DOMAINS)}",
                "from_ai_agent": False,
                "is_ai_answer": False,
            },
            "attachments": [_upload(r)] if rare(r, c, 15) else [],
            # the page a chat started on; e-mails and pushes have none
            "url": f"https://www.example.com/{pick(r, ('pricing', 'docs', 'aide', ''))}"
            if kind == "conversation"
            else None,
            "redacted": chance(r, 2),
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {
                    "type": "contact",
                    "id": f"{r():08x}{r():08x}{r():08x}",
                    "external_id": maybe(r, str(r())),
                },
            ],
        },
        "tags": _tag_list(r),
        "statistics": {
            "type": "conversation_statistics",
            "time_to_assignment": r() % 3600 if assigned else None,
            "time_to_admin_reply": maybe(r, r() % 86_400),
            "time_to_first_close": 600 + r() % (7 * 86_400) if closed_once else None,
            "first_contact_reply_at": maybe(r, r() % 3600),
            "first_admin_reply_at": maybe(r, r() % 86_400),
            "last_close_at": r() % (20 * 86_400) if closed_once else None,
            "count_reopens": reopens,
            "count_conversation_parts": 1 + r() % 30,
            "time_to_last_close": 900 + r() % (9 * 86_400) if closed_once else None,
            "median_time_to_reply": maybe(r, r() % 7200),
            "first_close_at": r() % (7 * 86_400) if closed_once else None,
            "last_admin_reply_at": maybe(r, r() % (9 * 86_400)),
            "last_closed_by_id": str(400_000 + r() % 100) if closed_once else None,
            "count_assignments": r() % 5 if assigned else 0,
            "handling_time": maybe(r, r() % 5400),
        },
        "teammates": {
            "type": "admin.list",
            "teammates": [
                {"type": "admin", "id": str(400_000 + r() % 100)} for _ in range(1 + r() % 2)
            ],
        },
        "custom_attributes": {}
        if chance(r, 50)
        else {"order_id": f"#{r() % 100_000}", "paid_subscriber": chance(r, 50)},
        "conversation_rating": {
            "rating": 1 + r() % 5,
            "remark": maybe(r, sentence(r, 2, 8)),
            "created_at": r() % 86_400,  # offset from creation until the patch
            "contact": {"type": "contact", "id": f"{r():08x}{r():08x}{r():08x}"},
            "teammate": {"type": "admin", "id": str(400_000 + r() % 100)},
        }
        if rare(r, c, 30)
        else None,
        "first_contact_reply": {
            "created_at": r() % 600,  # offset from creation until the patch
            "type": kind,
            "url": "https://www.example.com/" if kind == "conversation" else None,
        }
        if kind != "push" or c.variant == WITNESS
        else None,
        "sla_applied": {
            "type": "conversation_sla_summary",
            "sla_name": pick(r, ("VIP", "Standard", "Priorité")),
            "sla_status": pick(r, ("hit", "missed", "cancelled", "active")),
        }
        if rare(r, c, 25)
        else None,
        "linked_objects": {
            "type": "list",
            "total_count": (links := 1 if c.variant == WITNESS else r() % 2),
            "has_more": False,
            "data": [
                {
                    "type": "ticket",
                    "id": str(7000 + r() % 1000),
                    "category": pick(r, ("Customer", "Back-office", "Tracker")),
                }
                for _ in range(links)
            ],
        },
        "ai_agent_participated": (ai := rare(r, c, 20)),
        "ai_agent": {
            "source_type": pick(r, ("workflow", "profile", "essentials_plan_setup")),
            "source_title": f"{pick(r, WORDS).title()} workflow",
            "last_answer_type": pick(r, ("ai_answer", "custom_answer")),
            "resolution_state": pick(
                r, ("assumed_resolution", "confirmed_resolution", "routed_to_team", "abandoned")
            ),
            "rating": 1 + r() % 5,
            "rating_remark": maybe(r, sentence(r, 2, 6)),
        }
        if ai
        else None,
    }


_STAT_TIMES = (
    "first_contact_reply_at",
    "first_admin_reply_at",
    "last_close_at",
    "first_close_at",
    "last_admin_reply_at",
)


def helpdesk_conversations_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Numeric string ids; times growing with the index; offsets become times."""
    created_ms = created_at(i, key)
    created = _seconds(created_ms)
    updated = _seconds(updated_at(created_ms, key))
    rec["id"] = str(1_911_149_811 + i)
    rec["created_at"] = created
    rec["updated_at"] = updated
    if rec["waiting_since"] is not None:
        rec["waiting_since"] = min(created + rec["waiting_since"], updated)
    if rec["snoozed_until"] is not None:
        rec["snoozed_until"] += updated
    stats = rec["statistics"]
    times = {name: created + stats[name] for name in _STAT_TIMES if stats[name] is not None}
    rec["statistics"] = {**stats, **times}
    for name in ("conversation_rating", "first_contact_reply"):
        if rec[name] is not None:
            rec[name] = {**rec[name], "created_at": created + rec[name]["created_at"]}


def helpdesk_conversation_parts(r: Rng, c: Ctx) -> Record:
    """Body of a conversation part (comment, note, assignment...).

    ``notified_at`` is an offset from creation until the patch adds it; only assignments have
    ``assigned_to``.
    """
    name, slug = person(r)
    attachments = [_upload(r)] if rare(r, c, 15) else []
    part_type = pick(r, ("comment", "note", "assignment", "close", "open"))
    if c.variant == WITNESS:
        part_type = "assignment"
    assigned_to = None
    if part_type == "assignment":
        team = chance(r, 30)
        assigned_to = {
            "type": "team" if team else "admin",
            "id": str(814_860 + r() % 20 if team else 400_000 + r() % 100),
        }
    return {
        "type": "conversation_part",
        "id": None,
        "part_type": part_type,
        "body": maybe(r, f"<p>{sentence(r, 4, 14)}</p>"),
        "created_at": None,
        "updated_at": None,
        "notified_at": maybe(r, r() % 120),
        "assigned_to": assigned_to,
        "author": {
            "type": (author := pick(r, ("admin", "user", "bot"))),
            "id": str(400_000 + r() % 100),
            "name": name,
            "email": maybe(r, f"{slug}@{pick(r, DOMAINS)}"),
            "from_ai_agent": (ai := author == "bot" and chance(r, 50)),
            "is_ai_answer": ai and chance(r, 70),
        },
        "attachments": attachments,
        "external_id": maybe(r, f"msg-{r():08x}{r():04x}"),
        "redacted": chance(r, 3),
        "state": pick(r, ("open", "closed", "snoozed")),
        "tags": _part_tags(r, c),
        "metadata": {}
        if chance(r, 80)
        else {"quick_reply_uuid": uuid_like(mix64(r() << 32 | r()))},
        "email_message_metadata": {
            "subject": sentence(r, 2, 6),
            "email_address_headers": [
                {"type": "from", "email_address": f"{slug}@{pick(r, DOMAINS)}", "name": name}
            ],
        }
        if rare(r, c, 25)
        else None,
        "event_details": {} if chance(r, 70) else {"action": pick(r, ("merged", "linked"))},
        "app_package_code": maybe(r, pick(r, ("jira-cloud", "salesforce", "slack"))),
    }


def _part_tags(r: Rng, c: Ctx) -> list[dict[str, str]]:
    """Up to two tags (the witness: two)."""
    tags = _tag_list(r)["tags"]
    if c.variant == WITNESS:
        tags = [*tags, {"type": "tag", "id": "7000001", "name": WORDS[1]}][-2:]
    return tags


def helpdesk_conversation_parts_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Numeric string ids; times growing with the index."""
    created = created_at(i, key)
    rec["id"] = str(90_000_000_000 + i)
    rec["created_at"] = created_s = _seconds(created)
    rec["updated_at"] = _seconds(updated_at(created, key, 2))
    if rec["notified_at"] is not None:
        rec["notified_at"] += created_s


# tracker (Jira-like) --------------------------------------------------------------

_APP_ROLES = (
    ("jira-software", "Jira Software"),
    ("jira-servicedesk", "Jira Service Management"),
    ("jira-core", "Jira Work Management"),
    ("jira-product-discovery", "Jira Product Discovery"),
    ("confluence", "Confluence"),
    ("compass", "Compass"),
    ("statuspage", "Statuspage"),
    ("opsgenie", "Opsgenie"),
    ("bitbucket", "Bitbucket"),
    ("atlas", "Atlas"),
)


def tracker_application_roles(r: Rng, c: Ctx) -> Record:
    """Body of an application role; primary key ``key`` (set by the patch)."""
    seats = 10 + r() % 500
    users = r() % seats
    unlimited = chance(r, 10)
    return {
        "key": None,
        "name": None,
        "groups": some(r, ("administrators", "site-admins", "trusted-users"), 2),
        "defaultGroups": [],
        "groupDetails": [],
        "defaultGroupsDetails": [],
        "selectedByDefault": chance(r, 30),
        "defined": True,
        "numberOfSeats": -1 if unlimited else seats,
        "remainingSeats": -1 if unlimited else seats - users,
        "userCount": users,
        "userCountDescription": maybe(r, "users"),
        "hasUnlimitedSeats": unlimited,
        "platform": None,
    }


def tracker_application_roles_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """The well-known roles first, then numbered ones; each has its own users group."""
    role, name = _APP_ROLES[i % len(_APP_ROLES)]
    if i >= len(_APP_ROLES):
        role, name = f"{role}-{i}", f"{name} {i}"
    rec["key"] = role
    rec["name"] = name
    rec["groups"] = groups = [f"{role}-users", *rec["groups"]]
    rec["defaultGroups"] = [groups[0]]
    rec["groupDetails"] = [_jira_group(c.seed, group) for group in groups]
    rec["defaultGroupsDetails"] = [_jira_group(c.seed, groups[0])]
    rec["platform"] = i == 2


@lru_cache(maxsize=1024)
def _jira_group(seed: int, name: str) -> dict[str, str]:
    """A group's details; the same name has the same id everywhere (shared: read only)."""
    group_id = uuid_like(stable_hash(f"{seed}:tracker:group:{name}"))
    return {
        "groupId": group_id,
        "name": name,
        "self": f"https://tracker.example.com/rest/api/3/group?groupId={group_id}",
    }


def tracker_avatars(r: Rng, c: Ctx) -> Record:
    """Body of a system avatar of one type (the part)."""
    return {
        "id": None,
        "owner": None,
        "isSystemAvatar": True,
        "isSelected": False,
        "isDeletable": False,
        "fileName": f"{pick(r, ('bug', 'story', 'task', 'rocket', 'cloud', 'café'))}.svg",
        "urls": None,
    }


_AVATAR_OWNERS = {"issuetype": "10000", "project": "10001", "user": "5b10a2844c20165700ede21g"}
"""Who owns the system avatars of a type (the real API names the entity: an id)."""
_AVATAR_SIZES = (("16x16", "xsmall"), ("24x24", "small"), ("32x32", "medium"), ("48x48", "large"))


def tracker_avatars_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Ids unique across the avatar types: ``10000 + 3 i + type index``."""
    avatar_id = str(10_000 + 3 * i + c.part_index)
    base = f"https://tracker.example.com/rest/api/3/universal_avatar/view/type/{c.part}/avatar"
    rec["id"] = avatar_id
    rec["owner"] = _AVATAR_OWNERS.get(c.part, "system")
    rec["fileName"] = f"{c.part}-{i}-{rec['fileName']}"
    rec["urls"] = {size: f"{base}/{avatar_id}?size={label}" for size, label in _AVATAR_SIZES}


def tracker_boards(r: Rng, c: Ctx) -> Record:
    """Body of an agile board."""
    project_key = "".join(chr(65 + r() % 26) for _ in range(2 + r() % 3))
    project_name = f"{pick(r, TEAM_NAMES).title()} {pick(r, WORDS)}"
    project_id = 10_000 + r() % 5_000
    location = {
        "projectId": project_id,
        "displayName": f"{project_name} ({project_key})",
        "projectName": project_name,
        "projectKey": project_key,
        "projectTypeKey": pick(r, ("software", "business", "service_desk")),
        "avatarURI": f"/secure/projectavatar?size=small&pid={project_id}",
        "name": f"{project_name} ({project_key})",
    }
    if c.variant % 5 == 2:  # a user's board (its location names the user, not a project)
        owner, _ = person(r)
        account = f"5b10ac8d82e05b22cc7d{r():04x}"[:24]
        location = {
            "userId": 10_000 + r() % 90_000,
            "userAccountId": account,
            "displayName": owner,
            "avatarURI": f"https://avatar.example.com/{account}.png",
            "name": owner,
        }
    admin, _ = person(r)
    return {
        "id": None,
        "self": None,
        "name": f"{project_key} {pick(r, ('board', 'scrum board', 'kanban', 'Tableau 📋'))}",
        "type": pick(r, ("scrum", "kanban", "simple")),
        "isPrivate": chance(r, 15),
        "location": maybe(r, location),
        "canEdit": chance(r, 60),
        "favourite": chance(r, 20),
        "admins": maybe(
            r,
            {
                "users": [
                    {
                        "accountId": f"5b10a2844c20165700ede{r() % 1000:03d}",
                        "displayName": admin,
                        "active": not chance(r, 10),
                        "self": "https://tracker.example.com/rest/api/3/user",
                    }
                ],
                "groups": [
                    {
                        "name": "jira-administrators",
                        "self": "https://tracker.example.com/rest/api/3/group?groupname=jira-administrators",
                    }
                ],
            },
        ),
    }


def tracker_boards_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Integer ids from 1."""
    rec["id"] = board_id = 1 + i
    rec["self"] = f"https://tracker.example.com/rest/agile/1.0/board/{board_id}"


# statuspage (Atlassian-Statuspage-like) ---------------------------------------------

_COLOURS = (
    "css_body_background_color",
    "css_font_color",
    "css_light_font_color",
    "css_greens",
    "css_yellows",
    "css_oranges",
    "css_blues",
    "css_reds",
    "css_border_color",
    "css_graph_color",
    "css_link_color",
    "css_no_data",
)


_LOGOS = ("favicon_logo", "transactional_logo", "hero_cover", "email_logo", "twitter_logo")


def _logo(r: Rng, field: str) -> dict[str, Any]:
    """An uploaded image, as the live API describes one."""
    n = r() % 1_000_000
    stamp = _T0_MS + r() % (900 * _DAY_MS)
    return {
        "updated_at": iso_ms(stamp),
        "size": 2_000 + r() % 200_000,
        "url": f"https://dka575ofm4ao0.cloudfront.net/pages-{field}/original/{n}.png",
        "normal_url": f"https://dka575ofm4ao0.cloudfront.net/pages-{field}/normal/{n}.png",
        "retina_url": f"https://dka575ofm4ao0.cloudfront.net/pages-{field}/retina/{n}.png",
    }


def statuspage_pages(r: Rng, c: Ctx) -> Record:
    """Body of a status page."""
    _, _, _, state, city = pick(r, COUNTRIES)
    record: Record = {
        "id": None,
        "name": f"{pick(r, LAST)[0]} {pick(r, ('Status', 'Cloud', 'API', 'Statut'))}",
        "page_description": maybe(r, sentence(r)),
        "headline": maybe(r, sentence(r, 2, 5)),
        "branding": maybe(r, pick(r, ("basic", "basic", "premium"))),
        "subdomain": pick(r, LAST)[1],
        "domain": "" if chance(r, 90) else None,
        "url": None,
        "support_url": "" if chance(r, 90) else None,
        "time_zone": pick(r, TIME_ZONES),
        "city": maybe(r, city),
        "state": maybe(r, state),
        "country": maybe(r, pick(r, COUNTRIES)[0]),
        "activity_score": round((r() % 100_000) / 100, 2),
        "allow_page_subscribers": chance(r, 80),
        "allow_incident_subscribers": chance(r, 80),
        "allow_email_subscribers": maybe(r, chance(r, 80)),
        "allow_sms_subscribers": chance(r, 40),
        "allow_rss_atom_feeds": chance(r, 60),
        "allow_webhook_subscribers": chance(r, 50),
        "notifications_from_email": "" if chance(r, 90) else None,
        "notifications_email_footer": maybe(r, f"{sentence(r, 4, 10)}. © {pick(r, LAST)[0]}"),
        "twitter_username": "" if chance(r, 90) else None,
        "hidden_from_search": chance(r, 10),
        "viewers_must_be_team_members": chance(r, 10),
        "ip_restrictions": maybe(
            r, f"192.0.2.0/24,198.51.100.{r() % 256},2001:db8::/{32 + 16 * (r() % 3)}"
        ),
    }
    for field in _COLOURS:
        record[field] = f"#{r() & 0xFFFFFF:06X}"
    for field in _LOGOS:
        record[field] = _logo(r, field) if rare(r, c, 40) else None
    record["created_at"] = None
    record["updated_at"] = None
    return record


def statuspage_pages_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and subdomain (the domain, URLs, sender and Twitter handle follow it)."""
    created = created_at(i, key)
    rec["id"] = base36_id(key)
    rec["subdomain"] = subdomain = f"{rec['subdomain']}{i}"
    if rec["domain"] is not None:
        rec["domain"] = f"status.{subdomain}.example.com"
    rec["url"] = url = f"https://{subdomain}.example.com"
    if rec["support_url"] is not None:
        rec["support_url"] = f"{url}/support"
    if rec["notifications_from_email"] is not None:
        rec["notifications_from_email"] = f"noreply@{subdomain}.example.com"
    if rec["twitter_username"] is not None:
        rec["twitter_username"] = f"{subdomain}status"[:15]
    rec["created_at"] = iso_ms(created)
    rec["updated_at"] = iso_ms(updated_at(created, key))


def statuspage_subscribers(r: Rng, c: Ctx) -> Record:
    """Body of a subscriber; which contact field is set depends on ``mode``."""
    modes = ("email", "email", "email", "sms", "webhook", "slack")
    mode = "slack" if c.variant == WITNESS else pick(r, modes)
    _, slug = person(r)
    phone = f"{r() % 1000:03d}{r() % 10_000_000:07d}"
    quarantined = rare(r, c, 5)
    stamp = _T0_MS + r() % (900 * _DAY_MS)
    sms = mode == "sms"
    slack = mode == "slack"
    return {
        "id": None,
        "mode": mode,
        "email": f"{slug}@{pick(r, DOMAINS)}" if mode in ("email", "webhook") else None,
        "endpoint": f"https://hooks.example.com/{r() % 100_000}" if mode == "webhook" else None,
        "phone_number": phone if sms else None,
        "phone_country": pick(r, ("us", "de", "fr", "jp")) if sms else None,
        "display_phone_number": f"+1 {phone[:3]}-{phone[3:6]}-{phone[6:]}" if sms else None,
        "skip_confirmation_notification": chance(r, 20),
        "components": [base36_id(c.ref("components", r() % 30)) for _ in range(r() % 3)],
        "quarantined_at": iso_ms(stamp) if quarantined else None,
        "purge_at": iso_ms(later_ms(r, stamp, 90)) if quarantined else None,
        "created_at": None,
        "obfuscated_channel_name": f"#*******{pick(r, WORDS)[-2:]}" if slack else None,
        "workspace_name": pick(r, ("Atlassian", "Acme", "Équipe")) if slack else None,
        "page_access_user_id": base36_id(c.ref("page_access_users", r() % 50))
        if rare(r, c, 10)
        else None,
    }


def statuspage_subscribers_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and e-mail address."""
    rec["id"] = base36_id(key)
    email = rec["email"]
    if email is not None:
        local, _, domain = email.partition("@")
        rec["email"] = f"{local}{i}@{domain}"
    rec["created_at"] = iso_ms(created_at(i, key))


# oncall (Opsgenie-like) -------------------------------------------------------------


def _oncall_id(c: Ctx, stream: str, j: int) -> str:
    return uuid_like(c.ref(stream, j))


def _oncall_links(kind: str, ident: str) -> dict[str, str]:
    return {
        "web": f"https://oncall.example.com/{kind}/dashboard/{ident}",
        "api": f"https://api.example.com/v2/{kind}s/{ident}",
    }


def oncall_users(r: Rng, c: Ctx) -> Record:
    """Body of a user; ``username`` is an e-mail address."""
    name, slug = person(r)
    country, _, _, state, city = pick(r, COUNTRIES)
    return {
        "id": None,
        "username": f"{slug}@{pick(r, DOMAINS)}",
        "fullName": name,
        "role": dict.fromkeys(("id", "name"), pick(r, ("Admin", "User", "User", "Owner"))),
        "blocked": chance(r, 5),
        "verified": chance(r, 85),
        "timeZone": pick(r, TIME_ZONES),
        "locale": pick(r, LOCALES),
        "userAddress": maybe(
            r,
            {
                "country": country,
                "state": state,
                "city": city,
                "line": f"{1 + r() % 200} {pick(r, LAST)[0]} Street",
                "zipCode": f"{r() % 100_000:05d}",
            },
        ),
        "tags": some(r, ("sre", "backend", "lead", "emea", "夜勤"), 3),
        "createdAt": None,
        "skypeUsername": maybe(r, f"live:{slug}"),
        "details": {}
        if chance(r, 50)
        else {"department": [pick(r, TEAM_NAMES)], "floor": [str(1 + r() % 9)]},
        "mutedUntil": iso_ms(_T_END_MS + r() % (30 * _DAY_MS)) if rare(r, c, 5) else None,
        "invitationDisabled": chance(r, 10),
    }


def oncall_users_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and username."""
    local, _, domain = rec["username"].partition("@")
    rec["id"] = uuid_like(key)
    rec["username"] = f"{local}{i}@{domain}"
    rec["createdAt"] = iso_ms(created_at(i, key))


def oncall_teams(r: Rng, c: Ctx) -> Record:
    """Body of a team."""
    return {
        "id": None,
        "name": pick(r, TEAM_NAMES),
        "description": maybe(r, sentence(r)),
        "links": None,
    }


def oncall_teams_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and name; links carry the id."""
    rec["id"] = ident = uuid_like(key)
    rec["name"] = f"{rec['name']}-{i}"
    rec["links"] = _oncall_links("team", ident)


def oncall_services(r: Rng, c: Ctx) -> Record:
    """Body of a service."""
    return {
        "id": None,
        "name": f"{pick(r, WORDS)}-service",
        "description": maybe(r, sentence(r)),
        "teamId": _oncall_id(c, "teams", r() % 20),
        "isExternal": chance(r, 10),
        "tags": some(r, ("tier-1", "tier-2", "customer-facing", "internal"), 2),
        "visibility": pick(r, ("TEAM_MEMBERS", "OPSGENIE_USERS")),
        "links": None,
    }


def oncall_named_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id; the name carries the index."""
    rec["id"] = uuid_like(key)
    rec["name"] = f"{rec['name']}-{i}"


def oncall_services_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and name; links carry the id."""
    oncall_named_patch(rec, i, key, c)
    rec["links"] = _oncall_links("service", rec["id"])


_INTEGRATION_TYPES = ("API", "Email", "Prometheus", "Datadog", "Webhook", "Jira")


def oncall_integrations(r: Rng, c: Ctx) -> Record:
    """Body of an integration."""
    kind = pick(r, _INTEGRATION_TYPES)
    return {
        "id": None,
        "name": f"{kind} {pick(r, WORDS)}",
        "enabled": chance(r, 85),
        "type": kind,
        # the real API writes "" for an integration without a team
        "teamId": _oncall_id(c, "teams", r() % 20) if chance(r, 80) else pick(r, ("", None)),
        "version": pick(r, ("v1", "v2")),
        "advanced": chance(r, 30),
    }


_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


def _oncall_team(r: Rng, c: Ctx) -> dict[str, str]:
    """``{id, type, name}`` of one of the first 20 teams, as alerts and responders name them."""
    team = referenced(c.seed, "oncall", "teams", r() % 20)
    return {"id": team["id"], "type": "team", "name": team["name"]}


def _oncall_user(r: Rng, c: Ctx) -> dict[str, str]:
    """``{id, type, name}`` of one of the first 20 users (the name is the username)."""
    user = referenced(c.seed, "oncall", "users", r() % 20)
    return {"id": user["id"], "type": "user", "name": user["username"]}


def _responders(r: Rng, c: Ctx) -> list[dict[str, str]]:
    """Up to two teams or users; the witness variant has one of each."""
    if c.variant == WITNESS:
        return [_oncall_team(r, c), _oncall_user(r, c)]
    return [_oncall_team(r, c) if chance(r, 50) else _oncall_user(r, c) for _ in range(r() % 3)]


def oncall_incidents(r: Rng, c: Ctx) -> Record:
    """Body of an incident."""
    return {
        "id": None,
        "tinyId": None,
        "message": sentence(r, 3, 7),
        "description": maybe(r, sentence(r, 6, 16)),
        "status": pick(r, ("open", "resolved", "closed")),
        "tags": some(r, ("outage", "degraded", "database", "network", "🔥"), 3),
        "priority": pick(r, _PRIORITIES),
        "ownerTeam": maybe(r, _oncall_id(c, "teams", r() % 20)),
        "responders": _responders(r, c),
        "impactedServices": [_oncall_id(c, "services", r() % 20) for _ in range(r() % 3)],
        "extraProperties": {}
        if chance(r, 50)
        else {"region": pick(r, ("eu-west-1", "us-east-1")), "customer": pick(r, LAST)[0]},
        "links": None,
        "impactStartDate": None,
        "createdAt": None,
        "updatedAt": None,
        "isSeen": chance(r, 60),
        "source": maybe(r, f"{person(r)[1]}@{DOMAINS[0]}"),
        "owner": maybe(r, f"{person(r)[1]}@{DOMAINS[0]}"),
        "serviceId": _oncall_id(c, "services", r() % 20),
    }


def oncall_incidents_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique ids; newest first."""
    created = created_desc(i, key)
    rec["id"] = uuid_like(key)
    rec["tinyId"] = str(1 + i)
    rec["links"] = _oncall_links("incident", rec["id"])
    rec["impactStartDate"] = iso_ms(created - key % 3_600_000)
    rec["createdAt"] = iso_ms(created)
    rec["updatedAt"] = iso_ms(updated_at(created, key, 2))


def oncall_alerts(r: Rng, c: Ctx) -> Record:
    """Body of an alert; ``snoozedUntil`` holds an offset from ``updatedAt`` until the patch."""
    status = "open" if c.variant == WITNESS else pick(r, ("open", "closed", "closed"))
    snoozed = status == "open" and rare(r, c, 15)
    acknowledged = status == "closed" or chance(r, 30)
    source = pick(r, _INTEGRATION_TYPES)
    owner_team = maybe(r, _oncall_team(r, c))
    teams = [owner_team] if owner_team else []
    if chance(r, 20):
        teams.append(_oncall_team(r, c))
    report: dict[str, Any] = {}
    if acknowledged:
        report["ackTime"] = r() % 600_000
        report["acknowledgedBy"] = f"{person(r)[1]}@{DOMAINS[0]}"
    if status == "closed":
        report["closeTime"] = r() % 3_600_000
        report["closedBy"] = f"{person(r)[1]}@{DOMAINS[0]}"
    return {
        "id": None,
        "tinyId": None,
        "alias": None,
        "message": sentence(r, 3, 8),
        "status": status,
        "acknowledged": acknowledged,
        "isSeen": acknowledged or chance(r, 50),
        "snoozed": snoozed,
        "snoozedUntil": 600_000 + r() % _DAY_MS if snoozed else None,
        "count": 1 + r() % 20,
        "lastOccurredAt": None,
        "createdAt": None,
        "updatedAt": None,
        "source": source,
        "owner": maybe(r, f"{person(r)[1]}@{DOMAINS[0]}"),
        "ownerTeamId": owner_team["id"] if owner_team else None,
        "priority": pick(r, _PRIORITIES),
        "teams": teams,
        "responders": _responders(r, c),
        "integration": {
            "id": _oncall_id(c, "integrations", r() % 20),
            "name": f"{source} {r() % 7}",
            "type": source,
        },
        "report": report,
        "tags": some(r, ("prod", "staging", "db", "cpu", "日本"), 3),
        "details": {}
        if chance(r, 40)
        else {"host": f"web-{r() % 40:02d}", "region": pick(r, ("eu", "us", "ap"))},
    }


def oncall_alerts_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique ids; newest first (the API's ``sort=createdAt&order=desc``)."""
    created = created_desc(i, key)
    updated = updated_at(created, key, 2)
    rec["id"] = uuid_like(key)
    rec["tinyId"] = str(1 + i)
    rec["alias"] = f"alias-{key:016x}"
    rec["lastOccurredAt"] = rec["updatedAt"] = iso_ms(updated)
    rec["createdAt"] = iso_ms(created)
    snoozed_for = rec["snoozedUntil"]
    if snoozed_for is not None:
        rec["snoozedUntil"] = iso_ms(updated + snoozed_for)


GENERATORS: dict[tuple[str, str], tuple[Body, Patch]] = {
    ("chat", "teams"): (chat_teams, chat_teams_patch),
    ("chat", "rooms"): (chat_rooms, chat_rooms_patch),
    ("chat", "channels"): (chat_channels, chat_rooms_patch),
    ("chat", "roles"): (chat_roles, chat_roles_patch),
    ("chat", "subscriptions"): (chat_subscriptions, chat_subscriptions_patch),
    ("chat", "users"): (chat_users, chat_users_patch),
    ("helpdesk", "conversations"): (helpdesk_conversations, helpdesk_conversations_patch),
    ("helpdesk", "contacts"): (helpdesk_contacts, helpdesk_contacts_patch),
    ("helpdesk", "conversation_parts"): (
        helpdesk_conversation_parts,
        helpdesk_conversation_parts_patch,
    ),
    ("helpdesk", "teams"): (helpdesk_teams, helpdesk_teams_patch),
    ("helpdesk", "companies"): (helpdesk_companies, helpdesk_companies_patch),
    ("tracker", "application_roles"): (tracker_application_roles, tracker_application_roles_patch),
    ("tracker", "avatars"): (tracker_avatars, tracker_avatars_patch),
    ("tracker", "boards"): (tracker_boards, tracker_boards_patch),
    ("statuspage", "pages"): (statuspage_pages, statuspage_pages_patch),
    ("statuspage", "subscribers"): (statuspage_subscribers, statuspage_subscribers_patch),
    ("oncall", "users"): (oncall_users, oncall_users_patch),
    ("oncall", "teams"): (oncall_teams, oncall_teams_patch),
    ("oncall", "services"): (oncall_services, oncall_services_patch),
    ("oncall", "integrations"): (oncall_integrations, oncall_named_patch),
    ("oncall", "incidents"): (oncall_incidents, oncall_incidents_patch),
    ("oncall", "alerts"): (oncall_alerts, oncall_alerts_patch),
}
"""Body and patch per (source, stream)."""

#: Lean shapes (``Sandbox(lean=True)``): per stream, the fields a lean record keeps, scalars
#: and one small object. A lean contact is about 650 bytes and 27 values, the shape of many
#: real APIs' list endpoints, where the per-record cost of a tap shows most.
LEAN: dict[tuple[str, str], tuple[str, ...]] = {
    ("helpdesk", "contacts"): (
        *("id", "type", "role", "external_id", "email", "phone", "name", "owner_id"),
        *("created_at", "updated_at", "signed_up_at", "last_seen_at", "location"),
        *("unsubscribed_from_emails", "workspace_id", "email_domain", "has_hard_bounced"),
        *("marked_email_as_spam", "last_replied_at", "last_contacted_at", "browser"),
    )
}


class _Bodies:
    """The cached bodies of one stream, built on first use (shared by all Sandboxes)."""

    def __init__(self, seed: int, source: str, stream: str, part: str) -> None:
        self.prefix = blake2b(f"{seed}:{source}:{stream}:{part}:".encode(), digest_size=64)
        self.slots: list[Record | None] = [None] * VARIANTS


@cache
def _bodies(seed: int, source: str, stream: str, part: str) -> _Bodies:
    return _Bodies(seed, source, stream, part)


class StreamData:
    """Generates the records of one stream (or one part of a sliced stream) by index."""

    __slots__ = ("_bodies", "_ctx", "_extra", "_keep", "_make", "_patch", "_salt")

    def __init__(
        self,
        seed: int,
        source: str,
        stream: str,
        part: str = "",
        part_index: int = 0,
        *,
        undeclared_fields: bool = True,
        lean: bool = False,
    ) -> None:
        self._ctx = Ctx(seed, source, stream, part, part_index)
        self._keep = LEAN.get((source, stream)) if lean else None
        self._make, self._patch = GENERATORS[(source, stream)]
        self._bodies = _bodies(seed, source, stream, part)
        self._salt = _salt(seed, source, stream)
        self._extra = undeclared_fields

    def _body(self, v: int) -> Record:
        # Two threads may build the same body at once; both build equal dicts, so no lock.
        base = self._bodies.prefix.copy()
        base.update(v.to_bytes(4, "little"))
        body = self._make(_word_stream(base).__next__, replace(self._ctx, variant=v))
        self._bodies.slots[v] = body
        return body

    def rows(self, start: int, stop: int) -> list[Record]:
        """Records ``start`` (inclusive) to ``stop`` (exclusive), as fresh dicts.

        With ``undeclared_fields``, every 8th record carries :data:`EXTRA_FIELD`.
        """
        slots, patch, ctx, salt = self._bodies.slots, self._patch, self._ctx, self._salt
        extra, mask = self._extra, VARIANTS - 1
        out = []
        for i in range(start, stop):
            body = slots[i & mask] or self._body(i & mask)
            record = body.copy()
            patch(record, i, mix64(salt | i), ctx)
            if self._keep is not None:
                record = {name: record[name] for name in self._keep}
            if extra and i & 7 == 1:
                record[EXTRA_FIELD] = f"not in any schema ({i})"
            out.append(record)
        return out
