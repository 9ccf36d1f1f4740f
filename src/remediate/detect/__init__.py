"""Root-user detection from the IAM credential report."""
