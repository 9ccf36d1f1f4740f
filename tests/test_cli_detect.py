"""End-to-end: `remediate root-use` detection against moto's server over HTTP."""

from __future__ import annotations


def test_root_password_used_two_days_ago_is_in_use(moto, cli):
    r = cli("root-use", "--endpoint-url", moto.endpoint_url, "--output", "json")
    assert r.code == 1, r.err
    doc = r.json()
    assert doc["root_in_use"] is True
    assert doc["account_id"] == "123456789012"
    assert [e["credential"] for e in doc["evidence"]] == ["password"]
