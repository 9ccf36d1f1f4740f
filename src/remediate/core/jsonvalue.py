"""JSON where it enters or leaves remediate, named for what it is: an AWS API answer (or the
parameters of a request) as botocore takes and gives them, and a JSON document printed, imported
or read back (ASFF and OCSF findings, IAM policy documents, the keyring's notes, a YAML mapping
as loaded). Everything between those edges is typed; these names mark the edges."""

from typing import Any

# An AWS API answer or request parameters: botocore's shapes, not modelled again here.
AwsAnswer = dict[str, Any]
# A JSON object on its way out (printed, written, imported) or in (read back, loaded).
JsonObject = dict[str, Any]
