"""Findings in the formats security teams read: checks, ASFF, OCSF, Security Hub."""
