"""Prints template.yaml as CloudFormation gets it: through the AWS SAM translator (the one
cfn-lint and the SAM CLI use), with local CodeUris as S3 URIs the way `sam package` rewrites them.
Used by functions/bundle_test.go; the template uses no managed policies, so none are loaded."""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        return {}


os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
with open(sys.argv[1], encoding="utf-8") as f:
    template = yaml_parse(f.read())
for resource in template.get("Resources", {}).values():
    if resource.get("Type") == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://bucket/key"
json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, indent=1, default=str)
