#!/usr/bin/env python3
"""tests/support/events.py BASE PROJECT TOKEN: prints a project's whole
event log (GET /api/projects/:id/events, every page) as one JSON array,
oldest first. Used by tests that check which events a change wrote."""
import json
import sys
import urllib.request

base, project, token = sys.argv[1], sys.argv[2], sys.argv[3]
items, after = [], 0
for _ in range(10000):  # bounded: 200 a page
    r = urllib.request.Request(f"{base}/api/projects/{project}/events?after={after}&limit=200")
    r.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(r, timeout=30) as a:
        page = json.load(a)
    items += page["items"]
    if page["next_cursor"] is None or not page["items"]:
        break
    after = int(page["next_cursor"])
json.dump(items, sys.stdout)
