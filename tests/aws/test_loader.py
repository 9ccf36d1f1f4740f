"""The sessions' shared model loader gives every model exactly as botocore's own loader does,
fails for an unknown service as botocore does, and a command that calls AWS imports neither
boto3 nor s3transfer (start-up)."""

from __future__ import annotations

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


def test_an_unknown_service_fails_as_in_botocore() -> None:
    with pytest.raises(UnknownServiceError, match="Unknown service: 'no-such-service'") as info:
        ModelLoader().load_service_model("no-such-service", "service-2")
    assert "iam" in str(info.value)  # the services botocore knows, named


def test_sessions_share_one_loader() -> None:
    first, second = new_session(isolated=True), new_session(isolated=True)
    assert first.get_component("data_loader") is second.get_component("data_loader")
    assert first.get_component("data_loader") is model_loader(None)


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_partition_of_region(region: str, partition: str) -> None:
    assert partition_of_region(region) == partition


def test_calling_aws_imports_neither_boto3_nor_s3transfer() -> None:
    # In a fresh interpreter: the test session itself has imported boto3 long ago.
    code = (
        "import sys\n"
        "from remediate.aws.options import AwsOptions\n"
        "from remediate.aws.session import Aws\n"
        "aws = Aws.from_credentials(AwsOptions(region='us-east-1'), "
        "{'AccessKeyId': 'AKIDEXAMPLE', 'SecretAccessKey': 'secret'})\n"
        "aws.iam, aws.sts\n"
        "print(sorted(m for m in ('boto3', 's3transfer') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
