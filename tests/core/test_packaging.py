"""The production packaging, checked offline: the settings file for operators, the compose stack and the
Kubernetes manifests (against the Kubernetes API's own schemas, bundled by kubernetes-validate)."""

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"


def settings_read_from_the_environment() -> set[str]:
    source = (ROOT / "ibok" / "settings.py").read_text()
    names = set(re.findall(r'(?:environ\.get|env_bool|env_int|env_list)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    return names | {"DATABASE_URL"}  # read by dj-database-url


def test_env_example_names_every_setting_the_portal_reads():
    example = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))

    assert len(settings_read_from_the_environment()) > 50
    assert settings_read_from_the_environment() - named == set()


def test_env_example_explains_each_setting():
    """Each setting, or each group of settings set together, has a comment above it."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]+=", line):
            above = [earlier for earlier in lines[:number] if not re.match(r"^[A-Z][A-Z0-9_]+=", earlier)]
            assert above and above[-1].startswith("# "), f"line {number + 1} ({line}) has no comment above it"


def test_docker_build_context_leaves_out_the_hosts_environment_and_data():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".tools", "var", ".git", ".env"} <= set(ignored)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_migrations_once_before_everything_that_uses_the_database(compose):
    services = compose["services"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["command"] == "python manage.py migrate --no-input"
    for name in ["web", "beat", *(f"worker-{queue}" for queue in settings.IBOK_TASK_QUEUES)]:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name


def test_compose_has_a_worker_per_queue_and_a_health_check_on_every_long_running_service(compose):
    services = compose["services"]
    for queue in settings.IBOK_TASK_QUEUES:
        assert f"-Q {queue} " in services[f"worker-{queue}"]["command"]
    for name, service in services.items():
        if name != "migrate":
            assert "test" in service.get("healthcheck", {}), f"{name} has no health check"


def test_compose_mail_catcher_only_in_the_development_profile(compose):
    assert compose["services"]["mail"]["profiles"] == ["dev"]
    assert all("profiles" not in service for name, service in compose["services"].items() if name != "mail")


def manifests() -> list[dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents.extend(doc for doc in yaml.safe_load_all((K8S / resource).read_text()) if doc)
    return documents


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in manifests() if doc["kind"] == kind}


def containers(doc: dict) -> list[dict]:
    spec = doc["spec"]
    pod = spec["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob" else spec["template"]
    return pod["spec"]["containers"]


@pytest.mark.parametrize("document", manifests(), ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}")
def test_every_manifest_is_valid_against_the_kubernetes_schema(document):
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kubernetes_runs_web_with_readiness_a_deployment_per_queue_one_beat_a_migrations_job():
    deployments = by_kind("Deployment")
    probe = containers(deployments["ibok-web"])[0]["readinessProbe"]["httpGet"]
    assert probe["path"] == "/health/ready/"
    for queue in settings.IBOK_TASK_QUEUES:
        command = containers(deployments[f"ibok-worker-{queue}"])[0]["command"]
        assert command[command.index("-Q") + 1] == queue
    beat = deployments["ibok-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert containers(by_kind("Job")["ibok-migrate"])[0]["command"] == ["python", "manage.py", "migrate", "--no-input"]


def test_kubernetes_jobs_call_commands_that_exist():
    commands = get_commands()
    for doc in [*by_kind("Job").values(), *by_kind("CronJob").values()]:
        command = containers(doc)[0]["command"]
        assert command[:2] == ["python", "manage.py"]
        assert command[2] in commands, f"{doc['metadata']['name']} runs an unknown command {command[2]}"


def test_kubernetes_uses_only_the_portals_own_image():
    images = {
        container["image"]
        for doc in manifests()
        if "spec" in doc
        and doc["kind"] != "PersistentVolumeClaim"
        and doc["kind"] not in {"Service", "PodDisruptionBudget", "ConfigMap"}
        for container in containers(doc)
    }
    assert images == {"ibok"}


def test_kubernetes_sync_worker_and_migrations_bypass_the_pooler():
    """The sync's session-level lock and the migrations need a direct connection (docs/operations.md)."""
    config = by_kind("ConfigMap")["ibok"]["data"]
    assert config["DATABASE_POOLER"] == "transaction"
    for doc in [by_kind("Deployment")["ibok-worker-sync"], by_kind("Job")["ibok-migrate"]]:
        env = {entry["name"]: entry for entry in containers(doc)[0]["env"]}
        assert env["DATABASE_POOLER"]["value"] == ""
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_DIRECT_URL"


@pytest.mark.django_db
def test_the_retention_purge_command_deletes_only_what_is_past_its_purge_date():
    from datetime import date, timedelta

    from django.core.management import call_command

    from billing.models import Invoice
    from tests import factories

    due = factories.InvoiceFactory(purge_after=date.today() - timedelta(days=1))
    kept = factories.InvoiceFactory(purge_after=date.today() + timedelta(days=1))
    unmarked = factories.InvoiceFactory()

    call_command("retention_purge")

    assert set(Invoice.objects.values_list("pk", flat=True)) == {kept.pk, unmarked.pk}
    assert not Invoice.objects.filter(pk=due.pk).exists()
