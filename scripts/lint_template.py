"""Expands template.yaml's SAM resources with the SAM translator (offline) and
lints the resulting CloudFormation with cfn-lint, failing on any error.

`sam validate --lint` runs first in the test command; this second pass exists
because cfn-lint (1.x) no longer expands SAM resources itself, so bad `Ref`s,
runtimes or architectures inside them would otherwise go unnoticed.
"""

import json
import os
import subprocess
import sys
import tempfile

from cfnlint.decode import decode
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The template uses inline policies only; nothing to look up in IAM."""

    def load(self):
        return {}


def main(path: str) -> int:
    # The translator resolves AWS::Region through boto; no network is used.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template, matches = decode(path)
    if matches:
        for m in matches:
            print(m)
        return 1
    # As `sam package` would: local code paths become S3 locations.
    function_globals = (template.get("Globals") or {}).get("Function") or {}
    code_uri = function_globals.get("CodeUri")
    if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
        function_globals["CodeUri"] = "s3://lint-bucket/code.zip"
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(
            props.get("CodeUri"), str
        ) and not props["CodeUri"].startswith("s3://"):
            props["CodeUri"] = "s3://lint-bucket/code.zip"
    try:
        expanded = transform(
            template, {"AWS::Region": "us-east-1"}, NoManagedPolicies()
        )
    except Exception as err:  # the translator's own validation errors
        print(f"{path}: the SAM transform failed: {err}")
        return 1
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump(expanded, out, indent=1, default=str)
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "--regions", "us-east-1", "--", out.name],
        check=False,
    )
    os.unlink(out.name)
    if result.returncode != 0:
        print(f"cfn-lint found problems in the expanded {path} (exit {result.returncode})")
        return 1
    print(f"{path}: SAM expansion and cfn-lint clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
