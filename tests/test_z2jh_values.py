"""deploy/jupyterhub/values.yaml is valid for the Zero to JupyterHub chart.

Helm merges a user's values over the chart's values.yaml and validates the result
against the chart's values.schema (JSON Schema draft-07, kept in YAML in the chart's
repository).  This does the same with ``jsonschema``, against a copy of the chart's
two files (tests/data/z2jh/, provenance in tests/data/README.md).  Helm and a
Kubernetes cluster are not used: the Python in hub.extraConfig is only compiled.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
CHART = Path(__file__).resolve().parent / "data" / "z2jh"
VALUES = ROOT / "deploy" / "jupyterhub" / "values.yaml"


def deep_merge(base, override):
    """Helm's merge of values: maps merge key by key, anything else (lists too) is replaced;
    a null in the override deletes the key."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@functools.lru_cache(maxsize=None)
def _load(path):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(), Loader=loader)


def load(path):
    return copy.deepcopy(_load(path))


@functools.lru_cache(maxsize=None)
def validator():
    schema = _load(CHART / "values.schema.yaml")
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def validate(values):
    return list(validator().iter_errors(values))


def test_schema_is_draft7():
    assert load(CHART / "values.schema.yaml")["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_deep_merge_as_helm():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": 2}
    merged = deep_merge(base, {"a": {"c": [3]}, "d": None, "f": {"g": 1}})
    assert merged == {"a": {"b": 1, "c": [3]}, "e": 2, "f": {"g": 1}}
    assert base["a"]["c"] == [1, 2]


def test_chart_defaults_are_valid():
    assert validate(load(CHART / "values.yaml")) == []


def test_teachkit_values_are_valid():
    values = load(VALUES)
    errors = validate(deep_merge(load(CHART / "values.yaml"), values))
    assert errors == [], "\n".join(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_validation_can_fail():
    values = deep_merge(load(CHART / "values.yaml"), load(VALUES))
    for path, bad in ((("singleuser", "memory", "limit"), {"gigabytes": 1}),
                      (("singleuser", "storage", "extraVolumeMounts"), "exchange"),
                      (("cull", "timeout"), "an hour"),
                      (("singleuser", "unknownKey"), 1)):
        broken = copy.deepcopy(values)
        node = broken
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = bad
        assert validate(broken), f"{'.'.join(path)} = {bad!r} should be refused"
    missing = copy.deepcopy(values)
    del missing["singleuser"]
    assert validate(missing), "the schema requires every top-level key"


def test_deployment_choices():
    """What the guide promises: the exchange on a shared ReadWriteMany volume at the
    exchange root, culling, memory sized, one uid per user, formgrader for admins only."""
    v = load(VALUES)
    su = v["singleuser"]
    mounts = {m["name"]: m["mountPath"] for m in su["storage"]["extraVolumeMounts"]}
    claims = {vol["name"]: vol["persistentVolumeClaim"]["claimName"] for vol in su["storage"]["extraVolumes"]}
    assert mounts["nbgrader-exchange"] == su["extraEnv"]["TEACHKIT_NBGRADER_EXCHANGE"] == "/srv/nbgrader/exchange"
    pvc = load(ROOT / "deploy" / "jupyterhub" / "exchange-pvc.yaml")
    assert claims["nbgrader-exchange"] == pvc["metadata"]["name"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    etc = (ROOT / "deploy" / "jupyterhub" / "etc" / "jupyter" / "nbgrader_config.py").read_text()
    assert '"/srv/nbgrader/exchange"' in etc
    assert v["cull"]["enabled"] is True and v["cull"]["timeout"] > 0
    assert su["memory"]["limit"] and su["memory"]["guarantee"]
    extra = "\n".join(v["hub"]["extraConfig"].values())
    compile(extra, "hub.extraConfig", "exec")
    assert "c.KubeSpawner.uid" in extra and "TEACHKIT_COURSE_ROLE" in extra
