"""Playbooks: YAML files naming variables and an ordered list of steps, and their runner."""
