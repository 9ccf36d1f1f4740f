"""Playbook step kinds: one small class per IAM concern, registered by name."""
