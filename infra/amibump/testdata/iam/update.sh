#!/bin/sh
# Regenerates service-authorization.json: the Service Authorization Reference
# data (actions, their resource types, each type's ARN formats and condition
# keys) for the services the function's role uses, as cfn-lint ships it in
# cfnlint/data/AdditionalSpecs/Policies.json (cfn-lint 1.51.0, license MIT-0;
# cfn-lint builds that file from the AWS Service Authorization Reference,
# https://docs.aws.amazon.com/service-authorization/latest/reference/).
# Run from this directory on a machine with cfn-lint for Python 3.11.
set -eu
PYENV_VERSION=${PYENV_VERSION:-3.11.7} python - <<'PY'
import json, os, cfnlint
src = os.path.join(os.path.dirname(cfnlint.__file__), "data", "AdditionalSpecs", "Policies.json")
data = json.load(open(src))
services = ["autoscaling", "ec2", "events", "kms", "logs", "sqs", "ssm"]
out = {"source": "cfn-lint %s, cfnlint/data/AdditionalSpecs/Policies.json (MIT-0), from the AWS Service Authorization Reference" % cfnlint.version.__version__,
       "services": {s: data[s] for s in services}}
with open("service-authorization.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
PY
