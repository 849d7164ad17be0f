#!/usr/bin/env bash
# Publishes the function's code for the organisation's StackSet (AmibumpOrg):
# the zip that `make synth` wrote into cdk.out/member-AmibumpOrg-Org/code/,
# to the code bucket of each region in REGIONS (comma- or space-separated),
# amibump-code-<this account>-<region>, under amibump/<zip name>: the key the
# StackSet gives its member stacks. Lambda reads a function's code from a
# bucket in the function's own region, so every region of orgTargets needs
# its bucket. A missing bucket is created: public access blocked, readable
# (s3:GetObject of amibump/*) by the principals of this account's
# organisation only (aws:PrincipalOrgID), TLS only. Run it with the
# credentials of the account that deploys AmibumpOrg, before each deploy of it.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${CDK_OUT:-cdk.out}
regions=${REGIONS:-}
[ -n "$regions" ] || { echo "publish-code: REGIONS is empty; want the regions of orgTargets, e.g. REGIONS=us-east-1,eu-west-1" >&2; exit 2; }
shopt -s nullglob
zips=("$out"/member-AmibumpOrg-Org/code/function-*.zip)
[ ${#zips[@]} -eq 1 ] || { echo "publish-code: want one zip in $out/member-AmibumpOrg-Org/code, found ${#zips[@]}; run make synth with orgTargets set first" >&2; exit 2; }
zip=${zips[0]}
key="amibump/$(basename "$zip")"

account=$(aws sts get-caller-identity --query Account --output text)
partition=$(aws sts get-caller-identity --query Arn --output text | cut -d: -f2)
org=$(aws organizations describe-organization --query Organization.Id --output text)

for region in ${regions//,/ }; do
	bucket="amibump-code-$account-$region"
	if ! aws s3api head-bucket --bucket "$bucket" --region "$region" >/dev/null 2>&1; then
		echo "publish-code: creating s3://$bucket in $region"
		if [ "$region" = us-east-1 ]; then
			aws s3api create-bucket --bucket "$bucket" --region "$region" >/dev/null
		else
			aws s3api create-bucket --bucket "$bucket" --region "$region" \
				--create-bucket-configuration "LocationConstraint=$region" >/dev/null
		fi
	fi
	aws s3api put-public-access-block --bucket "$bucket" --region "$region" --public-access-block-configuration \
		BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
	aws s3api put-bucket-policy --bucket "$bucket" --region "$region" --policy "$(cat <<POLICY
{"Version": "2012-10-17", "Statement": [
 {"Sid": "OrganisationReadsTheCode", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
  "Resource": "arn:$partition:s3:::$bucket/amibump/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "$org"}}},
 {"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
  "Resource": ["arn:$partition:s3:::$bucket", "arn:$partition:s3:::$bucket/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
]}
POLICY
)"
	echo "publish-code: s3://$bucket/$key"
	aws s3 cp "$zip" "s3://$bucket/$key" --region "$region" --only-show-errors
done
