"""Records of the tracker source (Jira shapes)."""

from __future__ import annotations

from functools import lru_cache

from sandbox.data.common import (
    TEAM_NAMES,
    WORDS,
    Ctx,
    Record,
    Rng,
    chance,
    maybe,
    person,
    pick,
    some,
    stable_hash,
    uuid_like,
)

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
