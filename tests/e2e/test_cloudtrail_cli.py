"""End-to-end: `remediate root-use --cloudtrail` against moto's server with CloudTrail's event
history emulated (remediate.sandbox.cloudtrail), in one account, across accounts and on the
sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remediate.sandbox import cloudtrail as emulator
from remediate.sandbox import cloudtrail_events
from remediate.sandbox.server import RootState
from support.orgs import Org

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
EVIDENCE_FIELDS = {
    "kind",
    "event_time",
    "event_name",
    "event_source",
    "region",
    "source_ip",
    "user_agent",
    "mfa_used",
    "event_id",
}


def root_use(cli: Any, moto: Any, *args: str) -> Any:
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, *args)
    assert "Traceback" not in r.err
    return r


def seed_story(account: str = ACCOUNT) -> datetime:
    now = datetime.now(UTC)
    emulator.add_events(account, cloudtrail_events.sandbox_activity(account, now))
    return now


def test_json_evidence_of_kind_cloudtrail(moto: Any, cli: Any) -> None:
    seed_story()
    r = root_use(cli, moto, "--cloudtrail", "--cloudtrail-regions", "eu-west-1", "-o", "json")
    assert r.code == 1, r.err
    doc = r.json()
    report = [e for e in doc["evidence"] if "kind" not in e]
    trail = [e for e in doc["evidence"] if e.get("kind") == "cloudtrail"]
    assert [e["credential"] for e in report] == ["password"]
    assert len(trail) == 58
    assert all(set(e) >= EVIDENCE_FIELDS for e in trail)
    sign_ins = [e for e in trail if e["event_name"] == "ConsoleLogin"]
    assert {(e["source_ip"], e["mfa_used"]) for e in sign_ins} == {
        ("203.0.113.10", False),
        ("198.51.100.7", True),
    }
    assert {e["region"] for e in trail} == {"us-east-1", "eu-west-1"}
    assert doc["cloudtrail"]["regions"] == ["us-east-1", "eu-west-1"]
    assert doc["cloudtrail"]["lookup_calls"] == 3
    assert doc["cloudtrail"]["max_events_per_region"] == 1000
    assert doc["cloudtrail"]["truncated_regions"] == []
    assert emulator.stats()["throttled"] == 0


def test_without_the_option_no_lookup_and_cloudtrail_is_null(
    moto: Any, cli: Any, sent: list[str]
) -> None:
    seed_story()
    r = root_use(cli, moto, "-o", "json")
    assert r.json()["cloudtrail"] is None
    assert all(e.get("kind") != "cloudtrail" for e in r.json()["evidence"])
    assert not any(s.startswith("cloudtrail:") for s in sent)


def test_root_in_use_from_cloudtrail_when_the_report_shows_nothing_yet(moto: Any, cli: Any) -> None:
    moto.set_root(RootState(password_last_used=datetime.now(UTC) - timedelta(days=40)))
    assert root_use(cli, moto).code == 0
    emulator.add_events(
        ACCOUNT,
        [
            cloudtrail_events.api_call(
                ACCOUNT,
                datetime.now(UTC) - timedelta(minutes=3),
                region="us-east-1",
                source="iam.amazonaws.com",
                name="CreateUser",
                read_only=False,
                source_ip="192.0.2.9",
            )
        ],
    )
    r = root_use(cli, moto, "--cloudtrail", "-o", "json")
    assert r.code == 1, r.err
    doc = r.json()
    assert doc["root_in_use"] is True
    assert datetime.now(UTC) - datetime.fromisoformat(doc["last_used"]) < timedelta(minutes=4)
    assert any("CloudTrail shows the root user active" in n for n in doc["notes"])


def test_text_groups_sign_ins_addresses_and_writes_first(moto: Any, cli: Any) -> None:
    seed_story()
    r = root_use(cli, moto, "--cloudtrail", "--cloudtrail-regions", "eu-west-1")
    assert r.code == 1, r.err
    out = r.out
    assert "CloudTrail (us-east-1, eu-west-1): 58 root events" in out
    assert "Last console sign-in:" in out
    assert "from 203.0.113.10, without MFA." in out
    assert "Console sign-ins: 2 (1 without MFA), 1 failed:" in out
    assert "from 198.51.100.7  with MFA" in out
    assert "Source IPs: 203.0.113.10 (56), 198.51.100.7 (2)" in out
    writes = out.index("Write actions (3)")
    assert out.index("ec2:RunInstances") > writes
    assert out.index("iam:DeactivateMFADevice") > out.index("ec2:RunInstances")  # newest first
    assert out.index("Read-only actions: ec2:DescribeInstances (52)") > out.index(
        "iam:DeactivateMFADevice"
    )


def test_cloudtrail_text_is_made_safe(moto: Any, cli: Any) -> None:
    emulator.add_events(
        ACCOUNT,
        [
            cloudtrail_events.api_call(
                ACCOUNT,
                datetime.now(UTC) - timedelta(minutes=1),
                region="us-east-1",
                source="s3.amazonaws.com",
                name="Put\x1b[2JBucket",
                read_only=False,
                source_ip="[bold]1.2.3.4[/bold]",
                user_agent="evil\x1b]8;;http://x\x07agent\u202e",
            )
        ],
    )
    r = root_use(cli, moto, "--cloudtrail")
    assert "\x1b" not in r.out
    assert "\u202e" not in r.out
    assert "Put\\x1b[2JBucket" in r.out
    assert "[bold]1.2.3.4[/bold]" in r.out
    assert "evil\\x1b]8;;http://x\\x07agent\\u202e" in r.out


def test_a_region_that_fails_fails_the_lookup_in_one_line(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.cloudtrail.responses import CloudTrailResponse
    from moto.core.exceptions import JsonRESTError

    lookup = CloudTrailResponse.lookup_events

    def denied_in_eu(self: Any) -> Any:
        if self.region == "eu-west-1":
            raise JsonRESTError("AccessDeniedException", "not authorized to LookupEvents")
        return lookup(self)

    monkeypatch.setattr(CloudTrailResponse, "lookup_events", denied_in_eu)
    r = root_use(cli, moto, "--cloudtrail", "--cloudtrail-regions", "eu-west-1")
    assert r.code == 3
    lines = r.err.strip().splitlines()
    assert lines[0].startswith("error: CloudTrail event history in eu-west-1: access denied")
    assert "cloudtrail:LookupEvents" in lines[0]
    assert lines[1].startswith("Tip:")
    assert len(lines) == 2


def test_across_accounts_each_account_its_own_history(moto: Any, org: Org, cli: Any) -> None:
    # The quiet account's report shows root last used 90 days ago; CloudTrail shows it today.
    quiet = org.id("quiet")
    emulator.add_events(
        quiet,
        [
            cloudtrail_events.console_sign_in(
                quiet,
                datetime.now(UTC) - timedelta(hours=2),
                source_ip="192.0.2.77",
                mfa_used=False,
            )
        ],
    )
    seed_story()
    r = root_use(cli, moto, "--all-accounts", "--cloudtrail", "-o", "json")
    assert r.code == 1, r.err
    doc = {a["account_id"]: a for a in r.json()["accounts"]}
    assert doc[quiet]["root_in_use"] is True
    assert [e["source_ip"] for e in doc[quiet]["evidence"] if e.get("kind")] == ["192.0.2.77"]
    # Every enabled region by default: the story's 4 events in us-east-1 and 54 in eu-west-1.
    assert len([e for e in doc[ACCOUNT]["evidence"] if e.get("kind") == "cloudtrail"]) == 58
    # Every judged account was looked up; the one whose role cannot be assumed has an error.
    looked_up = [a for a in doc.values() if a["cloudtrail"] is not None]
    assert len(looked_up) == len(doc) - 1
    assert doc[org.id("locked")]["error"]
    assert emulator.stats()["throttled"] == 0


def test_across_accounts_text_shows_each_accounts_activity(
    moto: Any, org: Org, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    seed_story()
    r = root_use(cli, moto, "--all-accounts", "--cloudtrail")
    assert f"Account {ACCOUNT} (master):" in r.out
    assert r.out.index(f"Account {ACCOUNT} (master):") > r.out.index("accounts:")
    assert "Last console sign-in:" in r.out


def test_the_sandbox_shows_what_root_did_from_where_with_or_without_mfa(
    moto: Any, cli: Any
) -> None:
    r = cli("root-use", "--sandbox", "--cloudtrail", "--cloudtrail-regions", "eu-west-1")
    assert r.code == 1, r.err
    out = r.out
    assert "Last console sign-in:" in out
    assert "from 203.0.113.10, without MFA." in out
    assert "from 198.51.100.7  with MFA" in out
    assert "iam:DeactivateMFADevice" in out
    assert "ec2:RunInstances" in out


def test_permissions_add_lookup_events_only_with_cloudtrail(cli: Any) -> None:
    def actions(*args: str) -> set[str]:
        doc = json.loads(cli("permissions", "--detect-only", *args).out)
        return {a for s in doc["Statement"] for a in s["Action"]}

    assert "cloudtrail:LookupEvents" not in actions()
    with_trail = actions("--cloudtrail")
    assert {"cloudtrail:LookupEvents", "ec2:DescribeRegions"} <= with_trail
    assert with_trail - actions() == {"cloudtrail:LookupEvents", "ec2:DescribeRegions"}


def test_a_dry_run_looks_events_up_and_writes_nothing(moto: Any, cli: Any, sent: list[str]) -> None:
    from support.wire import writes

    seed_story()
    r = root_use(
        cli,
        moto,
        "--cloudtrail",
        "--create-admin",
        "alice",
        "--mfa-auto",
        "--dry-run",
        "-o",
        "json",
    )
    assert r.code == 0, r.err
    assert "cloudtrail:LookupEvents" in sent
    assert writes(sent) == []
    assert len([e for e in r.json()["evidence"] if e.get("kind") == "cloudtrail"]) == 58


# --- every enabled region, and never read as complete when it is not -----------------------------


def root_call_in(region: str, name: str = "RunInstances", minutes: int = 30) -> None:
    emulator.add_events(
        ACCOUNT,
        [
            cloudtrail_events.api_call(
                ACCOUNT,
                datetime.now(UTC) - timedelta(minutes=minutes),
                region=region,
                source="ec2.amazonaws.com",
                name=name,
                read_only=False,
                source_ip="192.0.2.44",
            )
        ],
    )


def deny_lookups_in(monkeypatch: pytest.MonkeyPatch, *regions: str) -> None:
    from moto.cloudtrail.responses import CloudTrailResponse
    from moto.core.exceptions import JsonRESTError

    lookup = CloudTrailResponse.lookup_events

    def denied(self: Any) -> Any:
        if self.region in regions:
            raise JsonRESTError("AccessDeniedException", "not authorized to LookupEvents")
        return lookup(self)

    monkeypatch.setattr(CloudTrailResponse, "lookup_events", denied)


def test_every_enabled_region_is_read_by_default(moto: Any, cli: Any) -> None:
    """Repro: --cloudtrail read us-east-1 alone, and root's API calls elsewhere went unseen
    (they are recorded in the region they are made in)."""
    root_call_in("eu-central-1")
    r = root_use(cli, moto, "--cloudtrail", "-o", "json")
    assert r.code == 1, r.err
    doc = r.json()
    trail = [e for e in doc["evidence"] if e.get("kind") == "cloudtrail"]
    assert [(e["region"], e["event_name"]) for e in trail] == [("eu-central-1", "RunInstances")]
    lookup = doc["cloudtrail"]
    assert lookup["every_enabled_region"] is True
    assert len(lookup["regions"]) == 17
    assert lookup["regions"][0] == "us-east-1"
    assert lookup["regions_read"] == lookup["regions"]
    assert (lookup["complete"], lookup["failed"]) == (True, [])
    text = root_use(cli, moto, "--cloudtrail")
    assert "CloudTrail (the 17 enabled regions: us-east-1, ap-northeast-1," in text.out


def test_named_regions_are_read_with_the_global_events_region(moto: Any, cli: Any) -> None:
    root_call_in("eu-central-1")
    r = root_use(cli, moto, "--cloudtrail", "--cloudtrail-regions", "eu-west-1", "-o", "json")
    lookup = r.json()["cloudtrail"]
    assert (lookup["regions"], lookup["every_enabled_region"]) == (
        ["us-east-1", "eu-west-1"],
        False,
    )
    assert [e for e in r.json()["evidence"] if e.get("kind")] == []


def test_a_region_that_fails_is_named_everywhere_and_the_others_are_read(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_story()
    deny_lookups_in(monkeypatch, "eu-west-1")
    r = root_use(cli, moto, "--cloudtrail", "-o", "json")
    assert r.code == 3, r.err  # asked for and not all read
    doc = r.json()
    lookup = doc["cloudtrail"]
    assert lookup["complete"] is False
    assert [(f["region"], f["code"]) for f in lookup["failed"]] == [
        ("eu-west-1", "AccessDeniedException")
    ]
    assert "eu-west-1" not in lookup["regions_read"]
    assert len(lookup["regions_read"]) == 16
    assert {e["region"] for e in doc["evidence"] if e.get("kind")} == {"us-east-1"}
    assert "error: CloudTrail event history in eu-west-1: access denied" in r.err

    text = root_use(cli, moto, "--cloudtrail")
    assert "CloudTrail (16 of the 17 enabled regions: us-east-1," in text.out
    assert "Not read: eu-west-1 (AccessDeniedException)" in text.out
    assert "Write actions (1) in the regions read" in text.out

    asff = root_use(cli, moto, "--cloudtrail", "-o", "asff")
    [in_use] = [f for f in asff.json() if f["Id"].endswith("root-user-in-use")]
    assert "16 of the 17 enabled regions" in in_use["Description"]
    assert "not read: eu-west-1 (AccessDeniedException)" in in_use["Description"]
    assert "1 write action in the regions read" in in_use["Description"]


def test_when_nothing_was_found_the_text_still_says_where_it_looked(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny_lookups_in(monkeypatch, "ap-south-1")
    r = root_use(cli, moto, "--cloudtrail")
    assert r.code == 3, r.err
    assert "no root events in the regions read" in r.out
    assert "Not read: ap-south-1 (AccessDeniedException)" in r.out


def test_a_truncated_region_is_named(moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from remediate.detect import cloudtrail

    monkeypatch.setattr(cloudtrail, "MAX_EVENTS_PER_REGION", 50)
    for i in range(60):
        root_call_in("us-east-1", name=f"Call{i}", minutes=i + 1)
    r = root_use(cli, moto, "--cloudtrail", "--cloudtrail-regions", "us-east-1", "-o", "json")
    lookup = r.json()["cloudtrail"]
    assert (lookup["complete"], lookup["truncated_regions"]) == (False, ["us-east-1"])
    text = root_use(cli, moto, "--cloudtrail", "--cloudtrail-regions", "us-east-1")
    assert "Only the newest 50 events read in us-east-1." in text.out


def test_enabled_regions_that_cannot_be_listed_are_named(
    moto: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses.availability_zones_and_regions import AvailabilityZonesAndRegions

    def denied(self: Any) -> Any:
        raise EC2ClientError("UnauthorizedOperation", "not authorized to DescribeRegions")

    monkeypatch.setattr(AvailabilityZonesAndRegions, "describe_regions", denied)
    r = root_use(cli, moto, "--cloudtrail", "-o", "json")
    assert r.code == 3, r.err
    lookup = r.json()["cloudtrail"]
    assert lookup["regions_read"] == ["us-east-1"]
    assert [(f["region"], f["code"]) for f in lookup["failed"]] == [(None, "UnauthorizedOperation")]
    assert "ec2:DescribeRegions" in r.err
    text = root_use(cli, moto, "--cloudtrail")
    assert "Not read: the other enabled regions (ec2:DescribeRegions failed" in text.out


def test_across_accounts_each_account_names_what_it_did_not_read(
    moto: Any, org: Org, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    deny_lookups_in(monkeypatch, "sa-east-1")
    r = root_use(cli, moto, "--all-accounts", "--cloudtrail")
    assert r.code == 3, r.err
    quiet = org.id("quiet")
    assert f"Account {quiet} (quiet):" in r.out
    assert r.out.count("Not read: sa-east-1 (AccessDeniedException)") == len(org.ids) - 1
