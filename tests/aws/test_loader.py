"""The sessions' shared model loader gives every model exactly as botocore's own loader does,
fails for an unknown service as botocore does, and a command that calls AWS imports neither
boto3 nor s3transfer (start-up)."""

from __future__ import annotations

import gc
import subprocess
import sys

import botocore.loaders
import pytest
from botocore.exceptions import UnknownServiceError

from remediate.aws.loader import ModelLoader, model_loader, partition_of_region
from remediate.aws.session import new_session

# Every service remediate calls, and the kinds of model its clients and paginators read.
SERVICES = ("iam", "sts", "organizations", "cloudtrail", "ec2", "securityhub")
KINDS = ("service-2", "endpoint-rule-set-1", "paginators-1")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("service", SERVICES)
def test_a_model_is_botocores_own(service: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = botocore.loaders.Loader().load_service_model(service, kind)

    def listing(*args: object, **kwargs: object) -> None:
        raise AssertionError("every service listed to load a known one")

    monkeypatch.setattr(ModelLoader, "list_available_services", listing)
    assert ModelLoader().load_service_model(service, kind) == expected


@pytest.mark.parametrize("name", ["endpoints", "partitions", "sdk-default-configuration"])
def test_data_is_botocores_own(name: str) -> None:
    assert ModelLoader().load_data(name) == botocore.loaders.Loader().load_data(name)


@pytest.mark.parametrize("enabled", [True, False])
def test_parsing_leaves_the_garbage_collector_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        ModelLoader().load_data("partitions")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_an_unknown_service_fails_as_in_botocore() -> None:
    with pytest.raises(UnknownServiceError, match="Unknown service: 'no-such-service'") as info:
        ModelLoader().load_service_model("no-such-service", "service-2")
    assert "iam" in str(info.value)  # the services botocore knows, named


def test_sessions_share_one_loader() -> None:
    first, second = new_session(isolated=True), new_session(isolated=True)
    assert first.get_component("data_loader") is second.get_component("data_loader")
    assert first.get_component("data_loader") is model_loader(None)


# A session for fake keys whose IAM and STS clients are built, in a fresh interpreter (this
# one has imported boto3 and parsed botocore's data long ago); the code before it sets up what it
# watches, the code after it prints what it saw.
SESSION_WITH_CLIENTS = (
    "from remediate.aws.options import AwsOptions\n"
    "from remediate.aws.session import Aws\n"
    "aws = Aws.from_credentials(AwsOptions(region='eu-west-1'), "
    "{'AccessKeyId': 'AKIDEXAMPLE', 'SecretAccessKey': 'secret'})\n"
    "aws.iam, aws.sts\n"
)


def _fresh(before: str, after: str) -> str:
    code = before + SESSION_WITH_CLIENTS + after
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_a_session_and_the_partition_lookup_parse_endpoint_data_once() -> None:
    # endpoints.json is 1.2 MB: parsed twice, it costs detection ~40 ms of CPU.
    watch = (
        "from remediate.aws.loader import ModelFileLoader\n"
        "read = []\n"
        "load_file = ModelFileLoader.load_file\n"
        "def counted(self, path):\n"
        "    read.append(path.rsplit('/', 1)[-1])\n"
        "    return load_file(self, path)\n"
        "ModelFileLoader.load_file = counted\n"
    )
    assert _fresh(watch, "print(read.count('endpoints'))\n") == "1"


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_partition_of_region(region: str, partition: str) -> None:
    assert partition_of_region(region) == partition


def test_calling_aws_imports_neither_boto3_nor_s3transfer() -> None:
    seen = "import sys\nprint(sorted(m for m in ('boto3', 's3transfer') if m in sys.modules))\n"
    assert _fresh("", seen) == "[]"
