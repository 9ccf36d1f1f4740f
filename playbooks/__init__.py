"""The shipped playbooks (YAML), installed with remediate as the package remediate.playbooks."""
