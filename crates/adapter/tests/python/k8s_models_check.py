"""Checks rendered Kubernetes manifests against the official client's models (generated
from the Kubernetes OpenAPI spec): every field must exist in its type, scalars must have
the right JSON type, and each object must deserialize into its model class (which also
enforces required fields).

Usage: kubectl kustomize deploy/ | k8s_models_check.py
Prints one line per object, `kind/name`; exits 1 with the problems otherwise.
"""
import re
import sys

import yaml
from kubernetes import client

PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def check(value, type_name, path, errors):
    if value is None:
        return
    # Older clients write list[X] / dict(str, X); newer ones List[X] / Dict[str, X].
    m = re.fullmatch(r"[lL]ist\[(.*)\]", type_name)
    if m:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            check(item, m.group(1), f"{path}[{i}]", errors)
        return
    m = re.fullmatch(r"dict\(([^,]*), (.*)\)", type_name) or re.fullmatch(
        r"Dict\[([^,]*), (.*)\]", type_name)
    if m:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map")
            return
        for k, v in value.items():
            check(v, m.group(2), f"{path}.{k}", errors)
        return
    if type_name in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[type_name]) and not (
            type_name != "bool" and isinstance(value, bool))
        if not ok:
            errors.append(f"{path}: expected {type_name}, got {type(value).__name__} {value!r}")
        return
    if type_name in ("object", "datetime", "date"):
        return
    cls = getattr(client, type_name, None)
    if cls is None:
        errors.append(f"{path}: no model {type_name}")
        return
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object of type {type_name}")
        return
    json_to_attr = {v: k for k, v in cls.attribute_map.items()}
    for key, v in value.items():
        attr = json_to_attr.get(key)
        if attr is None:
            errors.append(f"{path}.{key}: unknown field of {type_name}")
        else:
            check(v, cls.openapi_types[attr], f"{path}.{key}", errors)


def main():
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    api = client.ApiClient()
    errors = []
    for doc in docs:
        version = doc.get("apiVersion", "").split("/")[-1]
        name = f'{doc.get("kind")}/{doc.get("metadata", {}).get("name")}'
        type_name = version.capitalize() + doc.get("kind", "")
        if getattr(client, type_name, None) is None:
            errors.append(f"{name}: no model {type_name} for apiVersion {doc.get('apiVersion')}")
            continue
        before = len(errors)
        check(doc, type_name, name, errors)
        if len(errors) == before:
            try:
                api._ApiClient__deserialize(doc, type_name)
            except (ValueError, TypeError) as e:
                errors.append(f"{name}: {e}")
        print(name)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
