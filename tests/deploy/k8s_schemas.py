"""Validation of rendered Kubernetes objects against real schemas.

Built-in kinds: the Kubernetes OpenAPI schemas shipped by ``kubernetes-validate``.
Custom resources: the pydantic models ``cloudcoil`` generates from the prometheus-operator
and KEDA CRDs.
"""

from __future__ import annotations

from typing import Any

from deploy_support import KUBERNETES_VERSIONS, require_module


def _crd_models() -> dict[tuple[str, str], Any]:
    """Pydantic models generated from the prometheus-operator and KEDA CRD schemas."""
    monitoring = require_module("cloudcoil.models.prometheus_operator.v1")
    keda = require_module("cloudcoil.models.keda.v1alpha1")
    return {
        ("monitoring.coreos.com/v1", "ServiceMonitor"): monitoring.ServiceMonitor,
        ("monitoring.coreos.com/v1", "PrometheusRule"): monitoring.PrometheusRule,
        ("keda.sh/v1alpha1", "ScaledObject"): keda.ScaledObject,
        ("keda.sh/v1alpha1", "TriggerAuthentication"): keda.TriggerAuthentication,
    }


def _first_difference(expected: Any, actual: Any, path: str = "") -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected.keys() | actual.keys():
            if key not in actual:
                return f"{path}.{key}: unknown to the CRD schema"
            if key not in expected:
                return f"{path}.{key}: added by the model"
            found = _first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found = _first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return ""
    return "" if expected == actual else f"{path}: {expected!r} became {actual!r}"


def validate_object(obj: dict[str, Any]) -> str:
    """Validate one Kubernetes object against its schema; return the schema used.

    Built-in kinds: kubernetes-validate in strict mode (unknown fields rejected) for
    the oldest supported and the newest Kubernetes version. Custom resources: the
    CRD-generated models (ServiceMonitor, PrometheusRule, ScaledObject,
    TriggerAuthentication); an object must survive a round trip unchanged, so a field
    the CRD does not know fails too.

    :raises AssertionError: naming the object and the offending path.
    """
    validate = require_module("kubernetes_validate")
    label = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    model = _crd_models().get((obj["apiVersion"], obj["kind"]))
    if model is not None:
        try:
            parsed = model.model_validate(obj)
        except ValueError as error:
            raise AssertionError(f"{label}: {error}") from error
        dumped = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
        difference = _first_difference(obj, dumped)
        assert not difference, f"{label}: {difference}"
        return f"CRD model {model.__module__}.{model.__name__}"
    for version in KUBERNETES_VERSIONS:
        wanted = validate.utils.latest_version() if version == "latest" else version
        try:
            validate.validate(obj, wanted, strict=True)
        except validate.utils.ValidationError as error:
            where = ".".join(str(part) for part in error.path)
            raise AssertionError(
                f"{label} (Kubernetes {wanted}): {where}: {error.message}"
            ) from error
        except validate.utils.SchemaNotFoundError as error:
            raise AssertionError(f"{label}: {error.message}") from error
    return "Kubernetes OpenAPI (strict)"
