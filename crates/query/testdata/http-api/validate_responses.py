#!/usr/bin/env python3
"""Validates recorded Argus API responses against Prometheus' OpenAPI 3.1 description.

Usage: validate_responses.py <openapi_3.1.yaml> <responses.json>

<responses.json> is a list of {"path": "/query", "method": "get", "status": 200,
"body": <parsed JSON or null>} recorded by crates/query/tests/api_endpoints.rs. Each body is
validated against the schema of the matching response (the status code, else "default").
Exits non-zero listing every mismatch. Needs the `jsonschema` and `pyyaml` packages.
"""

import json
import sys

import jsonschema
import yaml


def main() -> int:
    spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    cases = json.load(open(sys.argv[2], encoding="utf-8"))
    components = spec["components"]
    failures = []
    checked = 0
    for case in cases:
        path, method, status = case["path"], case["method"], str(case["status"])
        op = spec["paths"].get(path, {}).get(method)
        if op is None:
            failures.append(f"{method.upper()} {path}: not in the OpenAPI description")
            continue
        responses = op["responses"]
        if status == "204":
            # Prometheus answers 204 No Content when a handler has no data (admin endpoints);
            # the description lists those as a bodiless "200".
            if case["body"] is not None or "200" not in responses:
                failures.append(f"{method.upper()} {path}: unexpected 204")
            continue
        resp = responses.get(status) or responses.get("default")
        if resp is None:
            failures.append(f"{method.upper()} {path}: status {status} not documented")
            continue
        content = resp.get("content", {}).get("application/json")
        if content is None:
            if case["body"] is not None:
                failures.append(f"{method.upper()} {path}: {status} documents no JSON body")
            continue
        # The schema's $refs point into #/components: give it the components alongside.
        schema = dict(content["schema"])
        schema["components"] = components
        validator = jsonschema.Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(case["body"]), key=lambda e: list(e.path))
        for e in errors:
            loc = "/".join(str(p) for p in e.absolute_path)
            failures.append(f"{method.upper()} {path} ({status}) at /{loc}: {e.message}")
        checked += 1
    for f in failures:
        print(f)
    print(f"validated {checked} responses, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
