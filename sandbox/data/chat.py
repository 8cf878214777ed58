"""Records of the chat source (Rocket.Chat REST v1 shapes)."""

from __future__ import annotations

from sandbox.data.common import (
    DOMAINS,
    TEAM_NAMES,
    WORDS,
    Ctx,
    Record,
    Rng,
    chance,
    created_at,
    iso_ms,
    maybe,
    meteor_id,
    mix64,
    person,
    pick,
    rare,
    referenced,
    sentence,
    some,
    updated_at,
)


def _chat_user_ref(r: Rng, c: Ctx, with_name: bool = False) -> dict[str, str]:
    """``{_id, username}`` of one of the first 20 users, as Rocket.Chat embeds users."""
    user = referenced(c.seed, "chat", "users", r() % 20)
    ref = {"_id": user["_id"], "username": user["username"]}
    if with_name:
        ref["name"] = user["name"]
    return ref


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
