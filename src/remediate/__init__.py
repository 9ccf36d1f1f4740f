"""remediate: find and fix use of the AWS account root user."""

__version__ = "0.1.0"
