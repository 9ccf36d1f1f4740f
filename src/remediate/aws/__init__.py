"""The AWS layer: the only part of remediate that imports boto3 or botocore."""
