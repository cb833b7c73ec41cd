#!/usr/bin/env python3
"""The authorization matrix (driven by authz_matrix.sh).

Calls every team, project, content and template route as each kind of
caller (ACTORS) on a private, a team and a public project (with published
and draft pages, shared and unshared items), and compares each status with
the one DERIVED from a data table that mirrors API.md "Teams and roles"
(ACTIONS, decide()); the routes are data too (ROUTES). Beyond the status:

  - lists (projects, with q / team / visibility filters; teams; templates;
    pages; files) hold exactly what the caller may see: never an id of a
    resource the caller may not read, always the ones where it has a role;
  - a hidden resource answers 404 with the very body of a resource that
    does not exist; 403 only where the caller sees the resource; 401 (no
    token) only on routes that never answer anonymous callers;
  - every method and path of /api/openapi.json is a row here or on the
    commented SKIP list, so the matrix cannot fall behind the API.

Mutating cells run on throwaway resources made for the cell and removed
after it, so the order of cells does not matter. On failure a compact
matrix (route x visibility x actor, expected/got) is printed; set
AUTHZ_MATRIX_PRINT=1 to print the whole matrix anyway.

To add a route: append a Route(...) to ROUTES (see the comment above it).

usage: authz_matrix.py BASE_URL MAIL_DIR
"""
import http.client
import json
import os
import re
import sys
import time
import urllib.parse
import uuid

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
MAIL_DIR = sys.argv[2] if len(sys.argv) > 2 else ""
PASSWORD = "correct horse battery staple"

# ---------------------------------------------------------------------------
# The policy, as API.md ("Teams and roles") and docs/projects.md write it.
# This is the expectation; the server's src/authz is NOT consulted.

ROLES = ["none", "guest", "viewer", "editor", "admin", "owner"]
RANK = {r: i for i, r in enumerate(ROLES)}

# API.md's table: the weakest role that may do each action. The guest
# column is not a threshold (shared items only): see decide().
ACTIONS = {
    "read": "viewer",     # read project, pages, files, comments
    "comment": "viewer",  # guests: shared items, if settings.security.guest_comments
    "edit": "editor",     # edit pages, files, assets
    "deploy": "editor",
    "manage": "admin",    # members, settings, domains (admins: not owners)
    "audit": "admin",     # docs/projects.md: read the audit log
    "delete": "owner",    # delete or transfer a project or a team
    "leave": "guest",     # docs/projects.md: any member may leave a team
    # docs/projects.md "Comments": editing a comment is its author's; the
    # fixture's comments are the owner's, so the owner alone passes.
    "author": "owner",
    "resolve": "editor",  # resolve/reopen: editors and up (or the author)
    "uncomment": "admin", # delete a comment: admins and up (or the author)
}
# Two more actions that are not about a role:
#   "signed-in": any signed-in caller (make a team or a personal project;
#                lists, whose content is checked item by item)
#   "invitee":   only the person an invitation names (none of the actors)

# The callers. Team roles in the fixture team; "guest" is a project member
# with the guest role and shares of some items (not in the team); "other"
# owns another team with projects of its own; "anon" sends no token.
ACTORS = ["owner", "admin", "editor", "viewer", "guest", "other", "anon"]
TEAM_ROLES = {"owner": "owner", "admin": "admin", "editor": "editor", "viewer": "viewer"}
VISIBILITIES = ["private", "team", "public"]

# Items of each fixture project: pages and files, published or not, shared
# with the guest or not.
class Item:
    def __init__(self, kind, key, published, shared):
        self.kind, self.key, self.published, self.shared = kind, key, published, shared


ITEMS = {
    "pub": Item("page", "/", True, False),            # published page
    "draft": Item("page", "/draft", False, False),    # draft page
    "shared": Item("page", "/shared", False, True),   # draft page shared with the guest
    "file": Item("file", "src/app.js", False, False),     # code file
    "sfile": Item("file", "src/shared.js", False, True),  # code file shared with the guest
}
PAGE_ITEMS = ["pub", "draft", "shared"]
FILE_ITEMS = ["file", "sfile"]


class Team:
    def __init__(self, tid, roles):
        self.id, self.roles = tid, roles  # roles: actor -> team role
        self.component = None  # a library component of the team


class Project:
    def __init__(self, pid, owner, team, vis, members=None, guest_comments=False):
        self.id, self.owner, self.team, self.vis = pid, owner, team, vis
        self.members = members or {}  # actor -> project role
        self.guest_comments = guest_comments
        self.pages = {}  # item key -> page id
        self.files = {}  # item key -> path
        self.asset = None  # an uploaded asset's id
        self.comments = {}  # page item key -> a comment (the owner's) on it
        self.ai = None  # an AI content record


def project_role(actor, p):
    """The caller's role on p after the visibility rule: private projects
    are seen by their owner, project members and the team's owners and
    admins; team and public projects by every team member."""
    if actor == "anon":
        return "none"
    roles = ["none", p.members.get(actor, "none")]
    if p.owner == actor:
        roles.append("owner")
    tr = p.team.roles.get(actor, "none") if p.team else "none"
    if p.vis != "private" or RANK[tr] >= RANK["admin"]:
        roles.append(tr)
    return max(roles, key=RANK.get)


def decide(route, actor, team=None, proj=None, item=None):
    """(expected status, the rule that gave it)."""
    if actor == "anon" and not route.anon:
        return 401, "no token on a route that needs one"
    if route.action == "signed-in":
        return route.ok, "any signed-in caller"
    if route.action == "invitee":
        return route.hidden, "only the invitee may use an invitation"
    if route.scope == "team":
        role = team.roles.get(actor, "none") if actor != "anon" else "none"
    else:
        role = project_role(actor, proj)
    it = ITEMS[item] if item else None
    # What a public project shows, it shows to anyone; changing it is
    # refused (403), since hiding it would hide nothing.
    public_visible = (route.public and route.scope == "project" and proj.vis == "public"
                      and (it is None or it.published))
    if role == "none" or (role == "guest" and ((it and not it.shared) or not route.guests)):
        if public_visible and route.action == "read":
            return route.ok, "public project: published content is anyone's to read"
        if public_visible:
            return route.denied, "public project: visible, but members make changes"
        if role == "none":
            return route.hidden, "no role: hidden"
        return route.item_hidden or route.hidden, "guest: unshared item is hidden"
    if role == "guest":
        if route.action in ("read", "leave"):
            return route.ok, "guest: shared items (and the project) are readable"
        if route.action == "comment" and it and proj.guest_comments:
            return route.ok, "guest: the project allows comments"
        return 403, "guest: may only read what is shared"
    if RANK[role] < RANK[ACTIONS[route.action]]:
        return route.denied, "%s < %s for %s" % (role, ACTIONS[route.action], route.action)
    if role in route.exceptions:
        return route.exceptions[role]
    return route.ok, "%s may %s" % (role, route.action)


# ---------------------------------------------------------------------------
# The routes. One Route per (method, path, variant):
#   scope   "global": no resource in the path (any signed-in caller, or
#                     "invitee"); "team": a team (in the path or the body);
#           "project": a project (in the path or the body); with item=
#                     "page"/"file" one cell per item of PAGE_ITEMS/FILE_ITEMS
#   action  a key of ACTIONS, "signed-in" or "invitee"
#   anon    True when the route answers anonymous callers (reads of what a
#           public project shows); otherwise no token is 401
#   ok      the success status; hidden: the status of a resource the caller
#           may not see (404; 400 when the resource is named by a field of
#           the body, exactly as a non-existent one)
#   fresh   mutating: the cell gets a throwaway team or project (with the
#           same members, guest and item) that is removed after it
#   body    a dict (JSON) or Raw(content_type, bytes), or a function of
#           the cell (c.vis, c.project, c.team, c.ids[...]) giving one;
#           query likewise
#   target  what {user_id} names: "bystander" (a member made for the
#           cell) or "self"
#   creates "project" / "team" / "template": what a success makes (removed,
#           or remembered for the list checks)
#   check   "projects" / "teams" / "templates" / "pages" / "files": the
#           list's content is compared with what the caller may see
#   denied  the status when the role is too weak (403; 400 when what is
#           denied is named by a body field the caller may not use)
#   public  False for what a public project never shows to outsiders
#           (comments: the collaborators' notes, not the site)
#   item_hidden the status of an item hidden from a caller who sees the
#           project (400 when the item is named by a body field)
#   guests  False for what no share reaches (AI records): hidden from guests
#   exceptions {effective role: (status, why)}: documented exceptions
# A route added to the API without a row here fails the coverage check.
# Rows for the routes being designed would read, for instance:
#   Route("POST", "/api/projects/{id}/pages/{page_id}/comments", "project", "comment",
#         ok=201, item="page", fresh=True, body={"text": "hi"}),
#   Route("POST", "/api/projects/{id}/transfer", "project", "delete", fresh=True,
#         body=lambda c: {"user_id": c.ids["admin"]}),
# and a new action (or a new caller) is a line of ACTIONS (or ACTORS).


class Route:
    def __init__(self, method, path, scope, action, variant="", anon=False, ok=200, hidden=404,
                 fresh=False, item=None, body=None, query=None, target=None, creates=None,
                 check=None, exceptions=None, denied=403, public=True, item_hidden=None,
                 guests=True):
        self.method, self.path, self.scope, self.action = method, path, scope, action
        self.variant, self.anon, self.ok, self.hidden = variant, anon, ok, hidden
        self.fresh, self.item, self.body, self.query = fresh, item, body, query
        self.target, self.creates, self.check = target, creates, check
        self.exceptions = exceptions or {}
        self.denied = denied
        self.public, self.item_hidden, self.guests = public, item_hidden, guests

    @property
    def label(self):
        return "%s %s%s" % (self.method, self.path, " [%s]" % self.variant if self.variant else "")


# The smallest GIF: an upload whose sniffed type is image/gif.
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


class Raw:
    """A body that is not JSON (an upload): Raw("image/png", b"...")."""
    def __init__(self, content_type, data):
        self.content_type, self.data = content_type, data


def uid():
    return uuid.uuid4().hex[:8]


ROUTES = [
    # ---- teams ----
    Route("GET", "/api/teams", "global", "signed-in", check="teams"),
    Route("POST", "/api/teams", "global", "signed-in", ok=201, creates="team",
          body={"name": "Scratch team"}),
    Route("POST", "/api/teams/join", "global", "invitee",
          body=lambda c: {"token": c.ids["invite_token"]}),
    Route("GET", "/api/teams/{id}", "team", "read"),
    Route("PATCH", "/api/teams/{id}", "team", "manage", fresh=True, body={"name": "Renamed"}),
    Route("DELETE", "/api/teams/{id}", "team", "delete", fresh=True),
    Route("POST", "/api/teams/{id}/transfer", "team", "delete", fresh=True,
          body=lambda c: {"user_id": c.ids["admin"]}),
    Route("GET", "/api/teams/{id}/members", "team", "read"),
    Route("POST", "/api/teams/{id}/members", "team", "manage", ok=201, fresh=True,
          body=lambda c: {"email": c.ids["newcomer_email"], "role": "viewer"}),
    Route("PATCH", "/api/teams/{id}/members/{user_id}", "team", "manage", fresh=True,
          target="bystander", body={"role": "editor"}),
    Route("DELETE", "/api/teams/{id}/members/{user_id}", "team", "manage", fresh=True,
          target="bystander"),
    Route("DELETE", "/api/teams/{id}/members/{user_id}", "team", "leave", variant="self: leave",
          fresh=True, target="self",
          exceptions={"owner": (409, "the last owner cannot leave")}),
    # ---- projects ----
    Route("GET", "/api/projects", "global", "signed-in", check="projects",
          query={"limit": "200"}),
    Route("GET", "/api/projects", "global", "signed-in", variant="q", check="projects",
          query={"q": "zebra", "limit": "200"}),
    Route("GET", "/api/projects", "global", "signed-in", variant="team=ours", check="projects",
          query=lambda c: {"team": c.ids["team"], "limit": "200"}),
    Route("GET", "/api/projects", "global", "signed-in", variant="team=other's",
          check="projects", query=lambda c: {"team": c.ids["other_team"], "limit": "200"}),
    Route("GET", "/api/projects", "global", "signed-in", variant="visibility=private",
          check="projects", query={"visibility": "private", "q": "zebra"}),
    Route("POST", "/api/projects", "global", "signed-in", variant="personal", ok=201,
          creates="project", body={"name": "Scratch personal"}),
    # Creating in a team is editing the team's work; the team is named in
    # the body, so one the caller cannot see is a bad field (400).
    Route("POST", "/api/projects", "team", "edit", variant="in the team", ok=201, hidden=400,
          creates="project", body=lambda c: {"name": "Scratch", "team_id": c.team}),
    # A team's templates are usable by its members who edit its projects
    # (docs/projects.md): a template holds drafts and code.
    Route("POST", "/api/projects", "team", "edit", variant="from the team's template", ok=201,
          hidden=400, denied=400, creates="project",
          body=lambda c: {"name": "Scratch", "template_id": c.ids["template"]}),
    Route("GET", "/api/projects/{id}", "project", "read", anon=True),
    # PUT replaces settings: a management action.
    Route("PUT", "/api/projects/{id}", "project", "manage", fresh=True,
          body=lambda c: {"name": "Replaced", "visibility": c.vis}),
    Route("PATCH", "/api/projects/{id}", "project", "edit", variant="description", fresh=True,
          body={"description": "edited"}),
    Route("PATCH", "/api/projects/{id}", "project", "manage", variant="visibility", fresh=True,
          body=lambda c: {"visibility": c.vis}),
    Route("PATCH", "/api/projects/{id}", "project", "manage", variant="settings", fresh=True,
          body={"settings": {"seo": {"title": "x"}}}),
    Route("DELETE", "/api/projects/{id}", "project", "delete", fresh=True),
    Route("GET", "/api/projects/{id}/audit", "project", "audit"),
    # docs/history.md: the event log and states hold drafts and unshared
    # items, so viewers and up read them; guests and the public never.
    Route("GET", "/api/projects/{id}/events", "project", "read", public=False, guests=False),
    Route("GET", "/api/projects/{id}/events", "project", "read", variant="after=1",
          query={"after": "1", "limit": "5"}, public=False, guests=False),
    Route("GET", "/api/projects/{id}/state", "project", "read", public=False, guests=False),
    Route("GET", "/api/projects/{id}/state", "project", "read", variant="at=1",
          query={"at": "1"}, public=False, guests=False),
    Route("PUT", "/api/projects/{id}/members", "project", "manage", fresh=True,
          body=lambda c: {"user_id": c.ids["bystander"], "role": "viewer"}),
    Route("POST", "/api/projects/{id}/shares", "project", "manage", ok=201, fresh=True,
          body=lambda c: {"user_id": c.ids["guest"], "kind": "page", "item": str(uuid.uuid4())}),
    # ---- pages ----
    Route("GET", "/api/projects/{id}/pages", "project", "read", anon=True, check="pages"),
    Route("POST", "/api/projects/{id}/pages", "project", "edit", ok=201, fresh=True,
          body=lambda c: {"name": "New", "path": "/new-" + uid()}),
    Route("GET", "/api/projects/{id}/pages/{page_id}", "project", "read", anon=True, item="page"),
    Route("PUT", "/api/projects/{id}/pages/{page_id}", "project", "edit", item="page", fresh=True,
          body={"name": "Renamed"}),
    Route("DELETE", "/api/projects/{id}/pages/{page_id}", "project", "edit", item="page",
          fresh=True),
    # ---- files ----
    Route("GET", "/api/projects/{id}/files", "project", "read", anon=True, check="files"),
    Route("POST", "/api/projects/{id}/files", "project", "edit", ok=201, fresh=True,
          body=lambda c: {"path": "src/new-%s.js" % uid(), "content": "1"}),
    Route("GET", "/api/projects/{id}/files/{path}", "project", "read", anon=True, item="file"),
    Route("PUT", "/api/projects/{id}/files/{path}", "project", "edit", item="file", fresh=True,
          body={"content": "2"}),
    Route("DELETE", "/api/projects/{id}/files/{path}", "project", "edit", item="file",
          fresh=True),
    # ---- assets: read by whoever reads the pages that show them ----
    Route("GET", "/api/projects/{id}/assets", "project", "read", anon=True),
    Route("POST", "/api/projects/{id}/assets", "project", "edit", ok=201, fresh=True,
          body=Raw("image/gif", GIF)),
    Route("GET", "/api/projects/{id}/assets/{asset_id}", "project", "read", anon=True),
    Route("GET", "/api/projects/{id}/assets/{asset_id}/content", "project", "read", anon=True),
    Route("DELETE", "/api/projects/{id}/assets/{asset_id}", "project", "edit", fresh=True),
    # ---- comments: on a page; never public content ----
    Route("GET", "/api/projects/{id}/comments", "project", "read", anon=True),
    Route("POST", "/api/projects/{id}/comments", "project", "comment", item="page", ok=201,
          public=False, item_hidden=400,
          body=lambda c: {"page_id": c.page, "element_id": "hero", "body": "Nice"}),
    Route("GET", "/api/projects/{id}/comments/{comment_id}", "project", "read", item="page",
          anon=True, public=False),
    Route("PATCH", "/api/projects/{id}/comments/{comment_id}", "project", "author", item="page",
          public=False, fresh=True, body={"body": "Edited"}),
    Route("POST", "/api/projects/{id}/comments/{comment_id}/resolve", "project", "resolve",
          item="page", public=False),
    Route("POST", "/api/projects/{id}/comments/{comment_id}/reopen", "project", "resolve",
          item="page", public=False),
    Route("DELETE", "/api/projects/{id}/comments/{comment_id}", "project", "uncomment",
          item="page", public=False, fresh=True),
    # ---- the team's component library: team items no share reaches ----
    Route("GET", "/api/teams/{id}/components", "team", "read"),
    Route("POST", "/api/teams/{id}/components", "team", "edit", ok=201,
          body=lambda c: {"name": "C " + uid(), "component": {"id": "c", "type": "Card"}}),
    Route("GET", "/api/teams/{id}/components/{component_id}", "team", "read"),
    Route("PUT", "/api/teams/{id}/components/{component_id}", "team", "edit",
          body=lambda c: {"name": "Hero " + uid()}),
    Route("DELETE", "/api/teams/{id}/components/{component_id}", "team", "edit", fresh=True),
    Route("POST", "/api/projects/{id}/pages/{page_id}/components", "project", "edit",
          item="page", ok=201, fresh=True,
          body=lambda c: {"library_component_id": TEAM.component}),
    # ---- AI content records: members only ----
    Route("GET", "/api/projects/{id}/ai-content", "project", "read", public=False, guests=False),
    Route("POST", "/api/projects/{id}/ai-content", "project", "edit", ok=201, public=False,
          guests=False, body={"type": "seo", "prompt": "Describe it", "result": {"title": "T"}}),
    Route("GET", "/api/projects/{id}/ai-content/{content_id}", "project", "read", public=False,
          guests=False),
    Route("DELETE", "/api/projects/{id}/ai-content/{content_id}", "project", "edit",
          public=False, guests=False, fresh=True),
    # Analytics (docs/analytics.md): viewers and up, never guests or the
    # public. The decision comes before the parameters are checked, so an
    # unknown metric tells allowed (400) from hidden (404) whatever the
    # time-series store (the local engine or InfluxDB) answers.
    Route("GET", "/api/projects/{id}/analytics", "project", "read", ok=400,
          query={"metric": "unknown"}, public=False, guests=False),
    # ---- version control (docs/vcs.md): members only, like AI records;
    # editors commit and branch, admins merge into and roll back main ----
    Route("GET", "/api/projects/{id}/vcs/commits", "project", "read", public=False, guests=False),
    Route("POST", "/api/projects/{id}/vcs/commits", "project", "edit", ok=201, public=False,
          guests=False, body=lambda c: {"branch": "side", "message": "m", "changes": [
              {"path": "files/m.txt", "content": uid()}]}),
    Route("GET", "/api/projects/{id}/vcs/branches", "project", "read", public=False,
          guests=False),
    Route("POST", "/api/projects/{id}/vcs/branches", "project", "edit", ok=201, public=False,
          guests=False, body=lambda c: {"name": "b" + uid()}),
    Route("DELETE", "/api/projects/{id}/vcs/branches/{name}", "project", "edit", public=False,
          guests=False, fresh=True),
    Route("GET", "/api/projects/{id}/vcs/tags", "project", "read", public=False, guests=False),
    Route("DELETE", "/api/projects/{id}/vcs/tags/{name}", "project", "edit", public=False,
          guests=False, fresh=True),
    Route("POST", "/api/projects/{id}/vcs/tags", "project", "edit", ok=201, public=False,
          guests=False, body=lambda c: {"name": "t" + uid()}),
    Route("GET", "/api/projects/{id}/vcs/diff", "project", "read", public=False, guests=False,
          query={"from": "main", "to": "side"}),
    Route("GET", "/api/projects/{id}/vcs/files/{file_path}", "project", "read", public=False,
          guests=False, query={"ref": "side"}),
    Route("POST", "/api/projects/{id}/vcs/merge", "project", "manage", public=False,
          guests=False, fresh=True, body={"source": "side"}),
    Route("POST", "/api/projects/{id}/vcs/merge", "project", "edit", variant="into a branch",
          public=False, guests=False, fresh=True, body={"source": "side", "target": "base"}),
    Route("POST", "/api/projects/{id}/vcs/merge/resolve", "project", "manage", public=False,
          guests=False, fresh=True,
          body=lambda c: {"source": "side", "expect_target": VCS_HEADS[c.project][0],
                          "expect_source": VCS_HEADS[c.project][1], "resolutions": {}}),
    Route("POST", "/api/projects/{id}/vcs/rollback", "project", "manage", ok=201, public=False,
          guests=False, fresh=True, body={"to": "main"}),
    Route("POST", "/api/projects/{id}/vcs/rollback", "project", "edit", ok=201,
          variant="a branch", public=False, guests=False, fresh=True,
          body={"branch": "side", "to": "main"}),
    # ---- transfer: owners; the admin (a team member) takes it ----
    Route("POST", "/api/projects/{id}/transfer", "project", "delete", fresh=True,
          body=lambda c: {"user_id": c.ids["admin"]}),
    # ---- collaborative documents (docs/collab.md): drafts, never public;
    # presence is the project's members' (a guest sees no one) ----
    Route("GET", "/api/projects/{id}/presence", "project", "read", public=False, guests=False),
    Route("GET", "/api/projects/{id}/docs/{doc}", "project", "read", item="page", public=False),
    # element locks: members list them, editors and up take them (a fresh
    # element per cell, so no cell meets another's lock)
    Route("GET", "/api/projects/{id}/locks", "project", "read", public=False, guests=False),
    Route("POST", "/api/projects/{id}/locks", "project", "edit",
          body=lambda c: {"element": "el-" + uid(), "type": "edit"}),
    # ---- templates ----
    Route("GET", "/api/templates", "global", "signed-in", check="templates"),
    # The project is named in the body; a hidden one is 404 like a missing one.
    Route("POST", "/api/templates", "project", "edit", ok=201, creates="template",
          body=lambda c: {"project_id": c.project, "name": "Scratch kit"}),
]

# Routes of /api/openapi.json outside this matrix, each with the reason.
SKIP = [
    ("GET", "/healthz"),           # ops: no resource, no caller
    ("GET", "/readyz"),            # ops
    ("GET", "/metrics"),           # ops (its own access rules: metrics.sh)
    ("GET", "/api/openapi.json"),  # the document itself, public
    ("*", "/api/auth/*"),          # the caller's own account and sessions: auth.sh, mfa.sh
    ("*", "/_test/*"),             # test-only routes of sitebase-test
    ("*", "/collab/*"),            # collaborative documents (WebSocket): their own tests
    ("GET", "/ping"),              # InfluxDB's health check: no resource, no caller
    ("POST", "/write"),            # InfluxDB-compatible: its own credentials and error shape,
    ("GET", "/query"),             # databases are projects; the rules (editor writes, viewer
    ("POST", "/query"),            # reads, others 404) are tested in analytics_influx.sh
    ("POST", "/api/collect"),      # the public beacon of published sites: anyone, rate limited
    ("*", "/git/*"),               # git's protocols, Basic auth: vcs.sh (clone, fetch, 401, 404)
    ("DELETE", "/api/projects/{id}/locks"),  # needs a lock held by someone: collab_rest.sh
                                   # (holder 204, owners 204, other editors 403)
    ("GET", "/api/projects/{id}/events/stream"),  # SSE, stays open: collab_rest.sh (members
                                   # 200, guests and strangers 404)
]

# ---------------------------------------------------------------------------
# HTTP


class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        assert u.hostname in ("127.0.0.1", "::1", "localhost"), "loopback only"
        self.host, self.port = u.hostname, u.port
        self.conn = None
        self.requests = 0

    def call(self, method, path, token=None, body=None, query=None, raw=False):
        if query:
            path += "?" + urllib.parse.urlencode(query)
        headers = {}
        data = None
        if token:
            headers["Authorization"] = "Bearer " + token
        if isinstance(body, Raw):
            data = body.data
            headers["Content-Type"] = body.content_type
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                break
            except (http.client.HTTPException, OSError):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        self.requests += 1
        if raw and r.status == 200:
            return r.status, payload
        try:
            return r.status, json.loads(payload) if payload else None
        except ValueError:
            return r.status, payload


HTTP = Client(BASE)
VCS_HEADS = {}  # project id -> (main's head, side's head) as make_project left them
TOKENS = {}  # actor -> access token
IDS = {}     # names -> ids


def api(actor, method, path, body=None, query=None, want=None, raw=False):
    status, data = HTTP.call(method, path, TOKENS.get(actor), body, query, raw)
    if want is not None and status != want:
        raise SystemExit("setup: %s %s as %s: %d, want %d: %s" % (method, path, actor, status,
                                                                  want, data))
    return status, data


# ---------------------------------------------------------------------------
# The world: users, the fixture team and projects, another team.

PROJECTS = {}   # id -> Project, everything the list checks know of
TEAMS = {}      # id -> Team
TEMPLATES = {}  # id -> (creator actor, Team or None)
FIXTURE = {}    # visibility -> Project
TEAM = None


def register(name):
    email = "%s@example.com" % name
    _, d = api(None, "POST", "/api/auth/register", {"email": email, "password": PASSWORD},
               want=201)
    TOKENS[name] = d["access_token"]
    IDS[name] = d["user"]["id"]
    IDS[name + "_email"] = email


def make_team(owner, roles, name="Team"):
    _, d = api(owner, "POST", "/api/teams", {"name": name}, want=201)
    t = Team(d["id"], {owner: "owner"})
    for actor, role in roles.items():
        api(owner, "POST", "/api/teams/%s/members" % t.id,
            {"email": IDS[actor + "_email"], "role": role}, want=201)
        t.roles[actor] = role
    return t


def make_project(owner, team, vis, name, items=(), guest=True):
    body = {"name": name, "description": "zebra crossing", "visibility": vis}
    if team:
        body["team_id"] = team.id
    _, d = api(owner, "POST", "/api/projects", body, want=201)
    p = Project(d["id"], owner, team, vis)
    if guest:
        api(owner, "PUT", "/api/projects/%s/members" % p.id,
            {"user_id": IDS["guest"], "role": "guest"}, want=200)
        p.members["guest"] = "guest"
    for key in items:
        it = ITEMS[key]
        if it.kind == "page":
            _, pg = api(owner, "POST", "/api/projects/%s/pages" % p.id,
                        {"name": key, "path": it.key, "published": it.published}, want=201)
            p.pages[key] = ref = pg["id"]
            _, cm = api(owner, "POST", "/api/projects/%s/comments" % p.id,
                        {"page_id": ref, "element_id": "hero", "body": "On " + key}, want=201)
            p.comments[key] = cm["id"]
        else:
            api(owner, "POST", "/api/projects/%s/files" % p.id,
                {"path": it.key, "content": "// %s\n" % key}, want=201)
            p.files[key] = ref = it.key
        if it.shared and guest:
            api(owner, "POST", "/api/projects/%s/shares" % p.id,
                {"user_id": IDS["guest"], "kind": it.kind, "item": ref}, want=201)
    _, d = api(owner, "POST", "/api/projects/%s/assets" % p.id, Raw("image/gif", GIF), want=201)
    p.asset = d["id"]
    _, d = api(owner, "POST", "/api/projects/%s/ai-content" % p.id,
               {"type": "copy", "prompt": "A tagline", "result": "Ride on"}, want=201)
    p.ai = d["id"]
    # version control (docs/vcs.md): main at a commit of the live project,
    # "base" at main, "side" one commit ahead; merges of side fast-forward
    vcs = "/api/projects/%s/vcs" % p.id
    _, d = api(owner, "POST", vcs + "/commits", {"message": "First", "from_live": True}, want=201)
    api(owner, "POST", vcs + "/branches", {"name": "base"}, want=201)
    api(owner, "POST", vcs + "/branches", {"name": "side"}, want=201)
    api(owner, "POST", vcs + "/tags", {"name": "side"}, want=201)  # for DELETE tags/{name}
    _, s = api(owner, "POST", vcs + "/commits", {"branch": "side", "message": "Side", "changes": [
        {"path": "files/vcs.txt", "content": "side\n"}]}, want=201)
    VCS_HEADS[p.id] = (d["id"], s["id"])
    return p


def read_invite_token():
    path = os.path.join(MAIL_DIR, "1.eml")
    for _ in range(200):
        if os.path.exists(path):
            break
        time.sleep(0.05)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    m = re.search(r"token=([A-Za-z0-9_-]+)", text)
    if not m:
        raise SystemExit("setup: no join link in the invitation mail")
    return m.group(1)


def setup():
    global TEAM
    for name in ACTORS[:-1] + ["bystander", "newcomer"]:
        register(name)
    TEAM = make_team("owner", {"admin": "admin", "editor": "editor", "viewer": "viewer"},
                     "Matrix team")
    TEAMS[TEAM.id] = TEAM
    IDS["team"] = TEAM.id
    other_team = make_team("other", {}, "Other team")
    TEAMS[other_team.id] = other_team
    IDS["other_team"] = other_team.id
    # An invitation to someone without an account: only they may use it.
    api("owner", "POST", "/api/teams/%s/members" % TEAM.id,
        {"email": "invitee@example.com", "role": "editor"}, want=201)
    IDS["invite_token"] = read_invite_token()
    for vis in VISIBILITIES:
        p = make_project("owner", TEAM, vis, "Zebra %s" % vis, PAGE_ITEMS + FILE_ITEMS)
        FIXTURE[vis] = PROJECTS[p.id] = p
        o = make_project("other", other_team, vis, "Zebra other %s" % vis, ["pub", "file"],
                         guest=False)
        PROJECTS[o.id] = o
    for who in ("owner", "other"):
        p = make_project(who, None, "private", "Zebra %s personal" % who, ["pub"], guest=False)
        PROJECTS[p.id] = p
    _, d = api("owner", "POST", "/api/templates",
               {"project_id": FIXTURE["team"].id, "name": "Team kit"}, want=201)
    TEMPLATES[d["id"]] = ("owner", TEAM)
    IDS["template"] = d["id"]
    add_component(TEAM)
    # From a private project: its creator's alone, whatever the team.
    _, d = api("owner", "POST", "/api/templates",
               {"project_id": FIXTURE["private"].id, "name": "Private kit"}, want=201)
    TEMPLATES[d["id"]] = ("owner", None)
    other_p = next(p for p in PROJECTS.values() if p.team is other_team and p.vis == "team")
    _, d = api("other", "POST", "/api/templates", {"project_id": other_p.id, "name": "Their kit"},
               want=201)
    TEMPLATES[d["id"]] = ("other", other_team)


# ---------------------------------------------------------------------------
# Cells


class Cell:
    def __init__(self, route, actor, vis=None, item=None):
        self.route, self.actor, self.vis, self.item = route, actor, vis, item
        self.ids = IDS
        self.team = self.project = self.page = None
        self.expected = self.got = None
        self.why = ""
        self.problems = []


def add_component(t):
    _, d = api("owner", "POST", "/api/teams/%s/components" % t.id,
               {"name": "Hero " + uid(), "component": {"id": "hero", "type": "Section"}},
               want=201)
    t.component = d["id"]


def scratch_team():
    t = make_team("owner", {"admin": "admin", "editor": "editor", "viewer": "viewer",
                            "bystander": "viewer"}, "Scratch team")
    add_component(t)
    return t


def scratch_project(vis, item):
    return make_project("owner", TEAM, vis, "Scratch %s" % vis, [item] if item else [])


def drop_team(t):
    for who in ("owner", "admin"):  # after a transfer the admin owns it
        status, _ = api(who, "DELETE", "/api/teams/%s" % t.id)
        if status in (200, 404):
            return None
    return "cleanup: the scratch team %s could not be deleted" % t.id


def drop_project(pid, who="owner"):
    for w in (who, "admin"):  # after a transfer the admin owns it
        status, _ = api(w, "DELETE", "/api/projects/%s" % pid)
        if status in (200, 404):
            return None
    return "cleanup: the scratch project could not be deleted (%d)" % status


def fill(path, c, team, proj):
    item = ITEMS[c.item] if c.item else None
    if "{id}" in path:
        path = path.replace("{id}", proj.id if proj else team.id)
    if "{page_id}" in path:
        path = path.replace("{page_id}", proj.pages[c.item])
    if "{path}" in path:
        path = path.replace("{path}", urllib.parse.quote(item.key))
    if "{doc}" in path:
        path = path.replace("{doc}", "page:" + proj.pages[c.item])
    if "{comment_id}" in path:
        path = path.replace("{comment_id}", proj.comments[c.item])
    if "{component_id}" in path:
        path = path.replace("{component_id}", team.component)
    if "{content_id}" in path:
        path = path.replace("{content_id}", proj.ai)
    if "{asset_id}" in path:
        path = path.replace("{asset_id}", proj.asset)
    if "{name}" in path:
        path = path.replace("{name}", "side")
    if "{file_path}" in path:
        path = path.replace("{file_path}", "files/vcs.txt")
    if "{user_id}" in path:
        who = "bystander" if c.route.target == "bystander" else c.actor
        path = path.replace("{user_id}", IDS.get(who, str(uuid.UUID(int=1 << 76))))
    return path


NOT_FOUND_BODY = None  # the answer for something that does not exist
PROBLEM_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}


def ids_of(data, key="id"):
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return None
    return [x.get(key) for x in data["items"]]


def check_list(c, data, proj):
    """The list holds what the caller may see, and nothing else."""
    kind = c.route.check
    if kind == "projects":
        q = c.route.query(c) if callable(c.route.query) else (c.route.query or {})
        got = ids_of(data)
        if got is None:
            return ["not a list"]
        problems = []
        for pid in got:
            p = PROJECTS.get(pid)
            if p is None:
                problems.append("unknown project %s listed" % pid)
                continue
            if decide(ROUTE_GET_PROJECT, c.actor, proj=p)[0] != 200:
                problems.append("LEAK: lists %s (%s of %s) it may not see" % (pid, p.vis, p.owner))
            if ("team" in q and (not p.team or p.team.id != q["team"])) or \
                    ("visibility" in q and p.vis != q["visibility"]):
                problems.append("filter ignored: lists %s" % pid)
        for p in PROJECTS.values():
            if ("team" in q and (not p.team or p.team.id != q["team"])) or \
                    ("visibility" in q and p.vis != q["visibility"]):
                continue
            if project_role(c.actor, p) != "none" and p.id not in got:
                problems.append("misses %s (%s of %s) where it has a role" % (p.id, p.vis, p.owner))
        return problems
    if kind == "teams":
        got = ids_of(data)
        if got is None:
            return ["not a list"]
        problems = ["LEAK: lists team %s it is not in" % t for t in got
                    if t not in TEAMS or c.actor not in TEAMS[t].roles]
        problems += ["misses its team %s" % t.id for t in TEAMS.values()
                     if c.actor in t.roles and t.id not in got]
        for x in data["items"]:
            t = TEAMS.get(x.get("id"))
            if t and c.actor in t.roles and x.get("role") != t.roles[c.actor]:
                problems.append("team %s: role %s, want %s" % (t.id, x.get("role"),
                                                               t.roles[c.actor]))
        return problems
    if kind == "templates":
        got = ids_of(data)
        if got is None:
            return ["not a list"]

        def usable(tid):
            creator, team = TEMPLATES[tid]
            return creator == c.actor or (
                team is not None and team.roles.get(c.actor) in ("owner", "admin", "editor"))
        problems = ["LEAK: lists template %s it may not use" % t for t in got
                    if t not in TEMPLATES or not usable(t)]
        problems += ["misses template %s" % t for t in TEMPLATES if usable(t) and t not in got]
        return problems
    if kind in ("pages", "files"):
        keys = PAGE_ITEMS if kind == "pages" else FILE_ITEMS
        refs = proj.pages if kind == "pages" else proj.files
        route = ROUTE_GET_PAGE if kind == "pages" else ROUTE_GET_FILE
        got = ids_of(data, "id" if kind == "pages" else "path")
        if got is None:
            return ["not a list"]
        want = {refs[k] for k in keys if decide(route, c.actor, proj=proj, item=k)[0] == 200}
        problems = ["LEAK: lists %s it may not read" % x for x in got if x not in want]
        problems += ["misses %s" % x for x in sorted(want - set(got))]
        return problems
    return []


def run_cell(c):
    r = c.route
    team = proj = None
    cleanup = None
    if r.scope == "team":
        team = scratch_team() if r.fresh else TEAM
        c.team = team.id
        cleanup = (lambda: drop_team(team)) if r.fresh else None
    elif r.scope == "project":
        proj = scratch_project(c.vis, c.item) if r.fresh else FIXTURE[c.vis]
        c.project = proj.id
        c.page = proj.pages.get(c.item) if c.item else None
        cleanup = (lambda: drop_project(proj.id)) if r.fresh else None
    body = r.body(c) if callable(r.body) else r.body
    query = r.query(c) if callable(r.query) else r.query
    path = fill(r.path, c, team, proj)
    c.expected, c.why = decide(r, c.actor, team=team, proj=proj, item=c.item)
    raw = r.method == "GET" and (r.item == "file" or r.path.endswith("/content"))
    c.got, data = api(c.actor if c.actor != "anon" else None, r.method, path, body, query, raw=raw)
    if c.got == c.expected:
        if c.got in PROBLEM_CODES:
            code = data.get("code") if isinstance(data, dict) else None
            if code != PROBLEM_CODES[c.got]:
                c.problems.append("code %s, want %s" % (code, PROBLEM_CODES[c.got]))
            if c.got == 404 and data != NOT_FOUND_BODY:
                c.problems.append("a hidden resource answers unlike a missing one: %s" % data)
        elif c.got == 200 and r.check:
            c.problems += check_list(c, data, proj)
        elif c.got == 200 and r.method == "GET" and r.path.endswith("/content"):
            if data != GIF:
                c.problems.append("asset content differs")
        elif c.got == 200 and r.method == "GET" and r.item == "file":
            if data != ("// %s\n" % c.item).encode():
                c.problems.append("file content differs")
        elif c.got == 200 and r.method == "GET" and r.path.endswith("{page_id}"):
            if data.get("id") != proj.pages[c.item]:
                c.problems.append("another page answered")
    # What a success made goes away (or is remembered).
    if 200 <= c.got < 300 and r.creates == "project":
        err = drop_project(data["id"], c.actor)
        if err:
            c.problems.append(err)
    elif 200 <= c.got < 300 and r.creates == "team":
        status, _ = api(c.actor, "DELETE", "/api/teams/%s" % data["id"])
        if status != 200:
            c.problems.append("cleanup: the new team could not be deleted (%d)" % status)
    elif 200 <= c.got < 300 and r.creates == "template":
        TEMPLATES[data["id"]] = (c.actor, proj.team if proj.vis != "private" else None)
    if cleanup and not (r.method == "DELETE" and r.path in ("/api/teams/{id}", "/api/projects/{id}")
                        and c.got == 200):
        err = cleanup()
        if err:
            c.problems.append(err)


def cells():
    for r in ROUTES:
        for actor in ACTORS:
            if r.scope != "project":
                yield Cell(r, actor)
                continue
            items = PAGE_ITEMS if r.item == "page" else FILE_ITEMS if r.item == "file" else [None]
            for vis in VISIBILITIES:
                for item in items:
                    yield Cell(r, actor, vis, item)


def find_route(method, path):
    return next(r for r in ROUTES if r.method == method and r.path == path and not r.variant)


ROUTE_GET_TEAM = find_route("GET", "/api/teams/{id}")
ROUTE_GET_PROJECT = find_route("GET", "/api/projects/{id}")
ROUTE_GET_PAGE = find_route("GET", "/api/projects/{id}/pages/{page_id}")
ROUTE_GET_FILE = find_route("GET", "/api/projects/{id}/files/{path}")

def forbidden_only_when_seen(all_cells):
    """A second net, independent of the table: every 403 is given to a
    caller who reads the resource (its GET answers 200), so a 403 never
    confirms that something hidden exists."""
    reads = {(c.route, c.actor, c.vis, c.item): c.got for c in all_cells}
    for c in all_cells:
        if c.got != 403 or c.route.scope == "global":
            continue
        if c.route.scope == "team":
            key = (ROUTE_GET_TEAM, c.actor, None, None)
        elif c.item:
            key = (ROUTE_GET_PAGE if ITEMS[c.item].kind == "page" else ROUTE_GET_FILE, c.actor,
                   c.vis, c.item)
        else:
            key = (ROUTE_GET_PROJECT, c.actor, c.vis, None)
        if reads.get(key) != 200:
            c.problems.append("403 on a resource the caller cannot read (%s answers %s)" %
                              (key[0].label, reads.get(key)))


# ---------------------------------------------------------------------------
# Coverage: every route of the OpenAPI document is a row or skipped.


def coverage():
    status, doc = api(None, "GET", "/api/openapi.json")
    if status != 200:
        return ["the OpenAPI document: %d" % status]
    documented = set()
    for path, ops in doc.get("paths", {}).items():
        for m in ops:
            if m in ("get", "put", "post", "patch", "delete"):
                documented.add((m.upper(), path))

    def skipped(method, path):
        for sm, sp in SKIP:
            if sm not in ("*", method):
                continue
            if sp == path or (sp.endswith("/*") and path.startswith(sp[:-1])):
                return True
        return False
    rows = {(r.method, r.path) for r in ROUTES}
    problems = ["not in the matrix (add a Route, or to SKIP with a reason): %s %s" % x
                for x in sorted(documented) if x not in rows and not skipped(*x)]
    problems += ["a matrix row the OpenAPI document does not list: %s %s" % x
                 for x in sorted(rows - documented)]
    return problems


# ---------------------------------------------------------------------------
# The report


def print_matrix(all_cells, only_failures):
    bad = lambda c: c.got != c.expected or c.problems
    lines = {}
    for c in all_cells:
        key = (c.route.label + (" {%s}" % c.item if c.item else ""), c.vis or "-")
        lines.setdefault(key, {})[c.actor] = c
    w = max(len(k[0]) for k in lines) + 2
    head = "%-*s%-8s" % (w, "route x visibility  (expected/got, ! marks a failure)", "vis")
    print(head + "".join("%-10s" % a for a in ACTORS))
    for (label, vis), row in lines.items():
        if only_failures and not any(bad(c) for c in row.values()):
            continue
        out = "%-*s%-8s" % (w, label, vis)
        for a in ACTORS:
            c = row.get(a)
            if c is None:
                out += "%-10s" % ""
            elif c.got != c.expected:
                out += "%-10s" % ("%s/%s!" % (c.expected, c.got))
            elif c.problems:
                out += "%-10s" % ("%d*" % c.got)
            else:
                out += "%-10s" % c.got
        print(out)


def main():
    global NOT_FOUND_BODY
    start = time.monotonic()
    setup()
    _, NOT_FOUND_BODY = api("owner", "GET", "/api/projects/%s" % uuid.UUID(int=7 << 76))
    failures = []
    cov = coverage()
    all_cells = []
    for c in cells():
        try:
            run_cell(c)
        except Exception as e:  # a crash in one cell is that cell's failure
            c.problems.append("error: %r" % e)
            if c.got is None:
                c.got = 0
        all_cells.append(c)
    forbidden_only_when_seen(all_cells)
    failed = [c for c in all_cells if c.got != c.expected or c.problems]
    elapsed = time.monotonic() - start
    n_routes = len({(r.method, r.path) for r in ROUTES})
    print("authz matrix: %d cells (%d rows over %d routes x %d callers x %d visibilities), "
          "%d requests, %.1f s" % (len(all_cells), len(ROUTES), n_routes, len(ACTORS),
                                   len(VISIBILITIES), HTTP.requests, elapsed))
    if failed or os.environ.get("AUTHZ_MATRIX_PRINT"):
        print_matrix(all_cells, only_failures=not os.environ.get("AUTHZ_MATRIX_PRINT"))
    for c in failed[:60]:
        where = "%s as %s%s%s" % (c.route.label, c.actor, " on %s" % c.vis if c.vis else "",
                                  " item %s" % c.item if c.item else "")
        if c.got != c.expected:
            print("FAIL %s: got %s, want %s (%s)" % (where, c.got, c.expected, c.why))
        for p in c.problems:
            print("FAIL %s: %s" % (where, p))
    if len(failed) > 60:
        print("... and %d more failed cells" % (len(failed) - 60))
    for p in cov:
        print("FAIL coverage: %s" % p)
    print("%d of %d cells passed; coverage %s" % (len(all_cells) - len(failed), len(all_cells),
                                                  "complete" if not cov else "INCOMPLETE"))
    return 1 if failed or cov else 0


if __name__ == "__main__":
    sys.exit(main())
