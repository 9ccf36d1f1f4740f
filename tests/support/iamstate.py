"""What a playbook could change in an account, read with boto3, in a form tests can compare."""

from __future__ import annotations

from typing import Any


def snapshot(iam: Any, *, key_ids: bool = True) -> dict[str, Any]:
    """Groups (attached managed policies, members) and users (tags, login profile, access keys,
    MFA devices). With ``key_ids=False`` access keys are counted, for comparing two accounts
    whose keys were created separately."""
    groups = {}
    for g in iam.list_groups()["Groups"]:
        name = g["GroupName"]
        attached = iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]
        members = iam.get_group(GroupName=name)["Users"]
        groups[name] = {
            "policies": sorted(p["PolicyArn"] for p in attached),
            "members": sorted(u["UserName"] for u in members),
        }
    users = {}
    for u in iam.list_users()["Users"]:
        name = u["UserName"]
        try:
            iam.get_login_profile(UserName=name)
            login = True
        except iam.exceptions.NoSuchEntityException:
            login = False
        keys = sorted(
            k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        )
        users[name] = {
            "tags": {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]},
            "login_profile": login,
            "access_keys": keys if key_ids else len(keys),
            "mfa": len(iam.list_mfa_devices(UserName=name)["MFADevices"]),
        }
    return {"groups": groups, "users": users}
