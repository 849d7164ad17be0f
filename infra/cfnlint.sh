#!/usr/bin/env bash
# Synthesizes the stack once per region the project lints, as `cdk synth` does
# (cdk.json's context, the CLI's region), and runs cfn-lint on each template.
# Fails on any error or warning that infra/cfn-lint.yaml does not suppress.
#   us-east-1   with kmsKeyArns, ciPrincipals, restrictDeployEvents, a
#               reservedConcurrency, ciOrgId, readOnlyTrust, resultsBusArn and
#               replicaRegions set, so the KMS statements, the bus policies, the
#               reservation, the read-only role, the results rule and the
#               replica rule are linted too
#   cn-north-1  the defaults, in the aws-cn partition
# both with orgTargets, so the organisation's stack (AmibumpOrg) and the member
# template its StackSet deploys are linted as well.
# and the README's CloudFormation example (testdata/iac/launch-template.yaml).
# Needs cfn-lint (PYENV_VERSION=3.11.7 cfn-lint; the version CI uses: 1.51).
set -euo pipefail
cd "$(dirname "$0")/.."

export PYENV_VERSION=${PYENV_VERSION:-3.11.7}
out=${CFN_LINT_OUT:-cdk.out/lint}
example_key='arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'

# synth REGION CONTEXT_OVERRIDES_JSON: the app with cdk.json's context (the
# CLI passes it in CDK_CONTEXT_JSON) plus the overrides, into $out/REGION.
synth() {
	local region=$1 overrides=$2 context
	context=$(python -c 'import json, sys
c = json.load(open("cdk.json"))["context"]
c.update(json.loads(sys.argv[1]))
print(json.dumps(c))' "$overrides")
	rm -rf "$out/$region"
	CDK_OUTDIR="$out/$region" CDK_DEFAULT_REGION="$region" CDK_CONTEXT_JSON="$context" \
		go run ./infra >"$out/$region.log" 2>&1 || { cat "$out/$region.log" >&2; return 1; }
}

mkdir -p "$out"
status=0
for region in us-east-1 cn-north-1; do
	overrides='{"orgTargets": {"organizationalUnitIds": ["ou-ab12-cd34ef56"], "regions": ["cn-north-1", "cn-northwest-1"]}}'
	if [ "$region" = us-east-1 ]; then
		overrides="{\"kmsKeyArns\": [\"$example_key\"], \"ciPrincipals\": [\"210987654321\", \"arn:aws:iam::123456789012:role/jenkins\"],
			\"restrictDeployEvents\": true, \"reservedConcurrency\": 5, \"ciOrgId\": \"o-a1b2c3d4e5\",
			\"readOnlyTrust\": [\"210987654321\", \"o-a1b2c3d4e5\"],
			\"resultsBusArn\": \"arn:aws:events:eu-west-1:210987654321:event-bus/amibump-results\",
			\"replicaRegions\": [\"us-west-2\"],
			\"orgTargets\": {\"organizationalUnitIds\": [\"ou-ab12-cd34ef56\"], \"regions\": [\"us-east-1\", \"eu-west-1\"]}}"
	fi
	echo "cfn-lint: synthesizing for $region"
	synth "$region" "$overrides"
	for template in "$out/$region/Amibump.template.json" "$out/$region/AmibumpOrg.template.json" \
		"$out/$region/member-AmibumpOrg-Org/AmibumpMember.template.json"; do
		echo "cfn-lint: linting $template"
		cfn-lint --config-file infra/cfn-lint.yaml --regions "$region" --non-zero-exit-code warning \
			-- "$template" || status=1
	done
done
# The CloudFormation example of a launch template wired to amibump's SSM
# parameter, which the README shows.
echo "cfn-lint: linting testdata/iac/launch-template.yaml"
cfn-lint --config-file infra/cfn-lint.yaml --regions us-east-1 --non-zero-exit-code warning \
	-- testdata/iac/launch-template.yaml || status=1
exit $status
