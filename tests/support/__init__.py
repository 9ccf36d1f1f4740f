"""Helpers the tests share: the fault proxy, the IAM policy evaluator, a pseudo-terminal,
prompters."""
