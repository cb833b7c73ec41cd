#!/usr/bin/python3
"""Checks real answers against the OpenAPI document (Debian's python3-jsonschema).

openapi_check.py SPEC SRC_API_DIR EXCHANGES

SPEC is the document the server served. EXCHANGES has one line per request
the test made: METHOD PATH_TEMPLATE STATUS HEADERS_FILE BODY_FILE. Fails
(exit 1, one line per problem) when:
- the document is not a well-formed OpenAPI 3.1 document (version, every
  $ref resolves, every schema is a valid JSON Schema 2020-12);
- its routes differ from those the server registers (net_router_add calls
  in SRC_API_DIR, test-only routes excluded), either way;
- a route in the document was never exercised by the test;
- an answer's status is not documented for its route, its content type is
  not the documented one, a documented Retry-After is missing, or its body
  does not match the schema.
"""
import glob
import json
import os
import re
import sys

from jsonschema import Draft202012Validator, RefResolver

spec_path, src_dir, exchanges_path = sys.argv[1:4]
spec = json.load(open(spec_path))
problems = []


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise KeyError(ref)
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
    return node


# ---- the document itself ----
if spec.get("openapi") != "3.1.0":
    problems.append("openapi is %r, want 3.1.0" % spec.get("openapi"))
for key in ("info", "paths", "components"):
    if key not in spec:
        problems.append("no %s" % key)


def walk(node, where):
    if isinstance(node, dict):
        if "$ref" in node:
            try:
                resolve(node)
            except KeyError:
                problems.append("%s: $ref %s does not resolve" % (where, node["$ref"]))
        for k, v in node.items():
            walk(v, where + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, "%s/%d" % (where, i))


walk(spec, "#")
for name, schema in spec.get("components", {}).get("schemas", {}).items():
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # noqa: BLE001 - report any schema error
        problems.append("schema %s: %s" % (name, str(e).splitlines()[0]))
methods = ("get", "post", "put", "patch", "delete")
documented = {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in methods}
for (m, p) in documented:
    if not spec["paths"][p][m.lower()].get("responses"):
        problems.append("%s %s has no responses" % (m, p))

# ---- the routes the server registers ----
registered = set()
pattern = re.compile(r'net_router_add\(\s*r,\s*NET_([A-Z]+),\s*"([^"]+)"')
for path in glob.glob(src_dir + "/*.c"):
    if path.endswith("test_routes.c"):
        continue
    for method, route in pattern.findall(open(path).read()):
        route = re.sub(r"[:*]([A-Za-z_]+)", r"{\1}", route)
        registered.add((method, route))
for m, p in sorted(registered - documented):
    problems.append("%s %s is served but not documented" % (m, p))
for m, p in sorted(documented - registered):
    problems.append("%s %s is documented but not served" % (m, p))

# ---- the answers ----
resolver = RefResolver.from_schema(spec)
exercised = set()
count = 0
for line in open(exchanges_path):
    if not line.strip():
        continue
    method, template, status, headers_file, body_file = line.split()
    count += 1
    exercised.add((method, template))
    where = "%s %s -> %s" % (method, template, status)
    op = spec["paths"].get(template, {}).get(method.lower())
    if op is None:
        problems.append("%s: the route is not in the document" % where)
        continue
    resp = op["responses"].get(status)
    if resp is None:
        problems.append("%s: status %s is not documented for this route" % (where, status))
        continue
    resp = resolve(resp)
    headers = {}
    for h in open(headers_file, encoding="latin-1").read().replace("\r", "").split("\n"):
        if ":" in h and not h.startswith("HTTP/"):
            k, v = h.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    for name in resp.get("headers", {}):
        if name == "Retry-After" and "retry-after" not in headers:
            problems.append("%s: no Retry-After" % where)
    # curl writes no file for an empty body (a 304, say).
    body = open(body_file, "rb").read() if os.path.exists(body_file) else b""
    content = resp.get("content")
    if not content:
        if body:
            problems.append("%s: a body where none is documented" % where)
        continue
    ctype = headers.get("content-type", "").split(";")[0].strip()
    # Media type ranges as OpenAPI allows them: "image/*", "*/*".
    for key in (ctype, ctype.split("/")[0] + "/*", "*/*"):
        if key in content:
            ctype = key
            break
    if ctype not in content:
        problems.append("%s: content type %r, documented %s" % (where, ctype, list(content)))
        continue
    schema = content[ctype].get("schema")
    if schema is None or not ctype.endswith("json"):
        continue
    try:
        doc = json.loads(body)
    except ValueError:
        problems.append("%s: the body is not JSON" % where)
        continue
    errors = sorted(Draft202012Validator(schema, resolver=resolver).iter_errors(doc), key=str)
    for e in errors[:3]:
        problems.append("%s: %s at /%s" % (where, e.message[:200], "/".join(map(str, e.absolute_path))))

for m, p in sorted(documented - exercised):
    problems.append("%s %s was never exercised by the test" % (m, p))

for p in problems:
    print("FAIL openapi: " + p)
print("openapi: %d answers checked against %d documented routes, %d problems"
      % (count, len(documented), len(problems)))
sys.exit(1 if problems else 0)
