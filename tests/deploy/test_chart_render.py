"""The Helm chart rendered by Helm's own engine (helm-python-sdk), then validated.

Every rendered object is checked against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict) or, for custom resources, the CRD-generated models;
then the security defaults, probes, Kafka settings and optional resources are
asserted on the rendered objects themselves.
"""

from __future__ import annotations

import pytest
from deploy_support import (
    CHART,
    CHART_CASES,
    Rendered,
    by_kind,
    ci_values,
    container_env,
    contract_settings,
    load_yaml,
    one,
    render_chart,
)
from k8s_schemas import validate_object

EXPECTED_KINDS = {
    "default": {"Deployment", "Service", "ServiceAccount"},
    "all-features": {
        "ConfigMap",
        "Deployment",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "PrometheusRule",
        "ScaledObject",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
        "TriggerAuthentication",
    },
    "hpa": {
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    },
}


@pytest.mark.parametrize("case", CHART_CASES)
def test_every_rendered_object_matches_its_schema(rendered_chart: Rendered, case: str) -> None:
    objects = rendered_chart[case]
    assert {obj["kind"] for obj in objects} == EXPECTED_KINDS[case]
    for obj in objects:
        assert validate_object(obj)
        assert obj["metadata"]["namespace"] == "mail"
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "bounce-processor"


def test_default_deployment_is_hardened(rendered_chart: Rendered) -> None:
    deployment = one(rendered_chart["default"], "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 10000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert one(rendered_chart["default"], "ServiceAccount")["automountServiceAccountToken"] is False
    # A read-only root file system still needs a writable /tmp.
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["image"] == f"bounce-processor:{load_yaml(CHART / 'Chart.yaml')['appVersion']}"
    assert container["args"] == ["run"]


def test_default_deployment_probes_and_drain_time(
    rendered_chart: Rendered,
) -> None:
    deployment = one(rendered_chart["default"], "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    port = container["ports"][0]
    assert (port["name"], port["containerPort"]) == ("http-metrics", 9850)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http-metrics"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
    env = container_env(deployment)
    drain = int(env["BOUNCE_PROCESSOR_SHUTDOWN_GRACE_SECONDS"]["value"])
    assert pod["terminationGracePeriodSeconds"] > drain
    assert env["BOUNCE_PROCESSOR_HTTP_ADDRESS"]["value"] == "0.0.0.0:9850"
    service = one(rendered_chart["default"], "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http-metrics"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_default_pods_spread_across_nodes_and_zones(
    rendered_chart: Rendered,
) -> None:
    pod = one(rendered_chart["default"], "Deployment")["spec"]["template"]["spec"]
    selector = one(rendered_chart["default"], "Deployment")["spec"]["selector"]["matchLabels"]
    preferred = pod["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert preferred[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert preferred[0]["podAffinityTerm"]["labelSelector"]["matchLabels"] == selector
    spread = pod["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"]["matchLabels"] == selector


@pytest.mark.parametrize("case", CHART_CASES)
def test_processor_settings_are_the_documented_ones(rendered_chart: Rendered, case: str) -> None:
    env = container_env(one(rendered_chart[case], "Deployment"))
    documented = contract_settings()
    for name in env:
        if name.startswith("BOUNCE_PROCESSOR_"):
            assert name in documented, f"{name} is not in docs/architecture.md"
        else:
            assert name.startswith("KAFKA_") or name == "TZ", name
    assert env["KAFKA_BOOTSTRAP_SERVERS"]["value"]
    assert env["BOUNCE_PROCESSOR_INPUT_TOPICS"]["value"] == "mail-delivery-events"


def test_kafka_credentials_come_from_existing_secrets(
    rendered_chart: Rendered,
) -> None:
    deployment = one(rendered_chart["all-features"], "Deployment")
    env = container_env(deployment)
    assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert env["KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
    for name, key in (("KAFKA_SASL_USERNAME", "username"), ("KAFKA_SASL_PASSWORD", "password")):
        assert "value" not in env[name]
        assert env[name]["valueFrom"]["secretKeyRef"] == {
            "name": "bounce-processor-kafka-user",
            "key": key,
        }
    pod = deployment["spec"]["template"]["spec"]
    tls_volume = next(volume for volume in pod["volumes"] if volume["name"] == "kafka-tls")
    assert tls_volume["secret"]["secretName"] == "kafka-cluster-ca"
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "kafka-tls")
    assert mount["readOnly"] is True
    assert env["KAFKA_SSL_CA_LOCATION"]["value"] == f"{mount['mountPath']}/ca.crt"
    # librdkafka passthrough: dotted property names become KAFKA_ variables.
    assert env["KAFKA_SESSION_TIMEOUT_MS"]["value"] == "10000"
    assert env["KAFKA_STATISTICS_INTERVAL_MS"]["value"] == "15000"
    assert env["KAFKA_PRODUCER_LINGER_MS"]["value"] == "50"
    assert env["KAFKA_CLIENT_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_extra_config_names_round_trip_through_the_processor_mapping() -> None:
    config = pytest.importorskip("processor.stream.config", reason="stream package not merged yet")
    extra = {"ssl.endpoint.identification.algorithm": "https", "consumer.fetch.min.bytes": 1}
    extra["ssl_key"] = "pem-text"  # a librdkafka name with an underscore
    env = container_env(one(render_chart({"kafka": {"extraConfig": extra}}), "Deployment"))
    passed = config.kafka_env(
        {name: entry["value"] for name, entry in env.items() if "value" in entry}
    )
    for key, value in extra.items():
        assert passed[key] == str(value)


def test_mutual_tls_files_are_passed(rendered_chart: Rendered) -> None:
    env = container_env(one(rendered_chart["hpa"], "Deployment"))
    base = "/etc/bounce-processor/kafka-tls"
    assert env["KAFKA_SSL_CERTIFICATE_LOCATION"]["value"] == f"{base}/tls.crt"
    assert env["KAFKA_SSL_KEY_LOCATION"]["value"] == f"{base}/tls.key"
    assert "KAFKA_SASL_MECHANISM" not in env


def test_policy_file_comes_from_a_configmap(
    rendered_chart: Rendered,
) -> None:
    objects = rendered_chart["all-features"]
    deployment = one(objects, "Deployment")
    policy_maps = [cm for cm in by_kind(objects, "ConfigMap") if "policy.toml" in cm["data"]]
    assert len(policy_maps) == 1
    assert (
        policy_maps[0]["data"]["policy.toml"]
        == ci_values("all-features-values.yaml")["policy"]["content"]
    )
    pod = deployment["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "policy")
    assert volume["configMap"]["name"] == policy_maps[0]["metadata"]["name"]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "policy")
    env = container_env(deployment)
    assert env["BOUNCE_PROCESSOR_POLICY_FILE"]["value"] == f"{mount['mountPath']}/policy.toml"
    assert deployment["spec"]["template"]["metadata"]["annotations"]["checksum/policy"]
    # An existing ConfigMap is mounted by name without rendering one.
    hpa_pod = one(rendered_chart["hpa"], "Deployment")["spec"]["template"]["spec"]
    existing = next(v for v in hpa_pod["volumes"] if v["name"] == "policy")
    assert existing["configMap"]["name"] == "site-bounce-policy"
    assert not by_kind(rendered_chart["hpa"], "ConfigMap")


def test_extra_env_and_volumes_are_passed_through(
    rendered_chart: Rendered,
) -> None:
    container = one(rendered_chart["all-features"], "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert {"name": "TZ", "value": "UTC"} in container["env"]
    assert container["envFrom"] == [{"configMapRef": {"name": "bounce-processor-extra"}}]
    assert {"name": "scratch", "mountPath": "/var/tmp"} in container["volumeMounts"]
