package amibump

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventschemas"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/amibump/amibump/lambda/event"
)

// newBus adds the bus CI puts deploy-finished and rollback-requested events
// on, with the listed CI principals allowed to put exactly those events; its
// archive of the deploy-finished events for console replay; and both events'
// schemas in a registry named after the bus.
func newBus(scope constructs.Construct, a *Amibump, props *Props) {
	a.Bus = awsevents.NewEventBus(scope, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(props.BusName),
		Description:  jsii.String("amibump: deploy-finished events from CI, bump-finished results"),
	})
	if len(props.CIPrincipals) > 0 {
		a.Bus.AddToResourcePolicy(ciPutEvents(a.Bus, props))
	}
	if props.CIOrgID != "" {
		a.Bus.AddToResourcePolicy(orgPutEvents(a.Bus, props))
	}
	if props.RestrictDeployEvents {
		a.Bus.AddToResourcePolicy(onlyCIPutsDeployEvents(a.Bus, props))
	}
	a.Archive = newArchive(a.Bus, props)
	a.Schema, a.RollbackSchema = newSchemas(scope, props)
}

// ciDetailTypes are the detail types CI (and whoever it lets) puts on the bus:
// deploy-finished and rollback-requested.
var ciDetailTypes = []string{event.KindDeploy.DetailType, event.KindRollback.DetailType}

// ciPutEvents lets the CI principals put deploy-finished and
// rollback-requested events (ciDetailTypes) of the CI source on the bus, and
// nothing else. The statement id predates rollback-requested and is kept, so
// that an update changes the policy's conditions only.
func ciPutEvents(bus awsevents.EventBus, props *Props) awsiam.PolicyStatement {
	var principals []awsiam.IPrincipal
	for _, p := range props.CIPrincipals {
		if accountPattern.MatchString(p) {
			principals = append(principals, awsiam.NewAccountPrincipal(jsii.String(p)))
		} else {
			principals = append(principals, awsiam.NewArnPrincipal(jsii.String(p)))
		}
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CIPutDeployFinished"),
		Actions:    jsii.Strings("events:PutEvents"),
		Principals: &principals,
		Resources:  jsii.Strings(*bus.EventBusArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{
				"events:source":      props.CISource,
				"events:detail-type": ciDetailTypes,
			},
		},
	})
}

// orgPutEvents lets every principal of the ciOrgId organisation put
// ciDetailTypes events of the CI source on the bus, and nothing else: the
// conditions of ciPutEvents, and aws:PrincipalOrgID. With
// restrictDeployEvents, onlyCIPutsDeployEvents still denies those of the
// organisation's principals that are not ciPrincipals: a Deny wins.
func orgPutEvents(bus awsevents.EventBus, props *Props) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OrgPutDeployFinished"),
		Actions:    jsii.Strings("events:PutEvents"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Resources:  jsii.Strings(*bus.EventBusArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{
				"aws:PrincipalOrgID": props.CIOrgID,
				"events:source":      props.CISource,
				"events:detail-type": ciDetailTypes,
			},
		},
	})
}

// onlyCIPutsDeployEvents denies putting ciDetailTypes events on the bus to
// every principal that is not one of the CI principals: an explicit Deny in a
// resource policy wins over any Allow, the identity policies of this account's
// principals included. A listed account admits its every principal
// (arn:<partition>:iam::<account>:*); a listed role admits its sessions, whose
// aws:PrincipalArn is the role's ARN. Other detail types (bump-finished, which
// the function puts) are not concerned.
func onlyCIPutsDeployEvents(bus awsevents.EventBus, props *Props) awsiam.PolicyStatement {
	var allowed []*string
	for _, p := range props.CIPrincipals {
		if accountPattern.MatchString(p) {
			allowed = append(allowed, awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", *awscdk.Aws_PARTITION(), ":iam::"+p+":*")))
		} else {
			allowed = append(allowed, jsii.String(p))
		}
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyCIPutsDeployFinished"),
		Effect:     awsiam.Effect_DENY,
		Actions:    jsii.Strings("events:PutEvents"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Resources:  jsii.Strings(*bus.EventBusArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"events:detail-type": ciDetailTypes},
			"ArnNotLike":   map[string]any{"aws:PrincipalArn": allowed},
		},
	})
}

// deployPattern matches the deploy-finished events of the CI source; the
// archive and the rule use the same one.
func deployPattern(props *Props) *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source:     jsii.Strings(props.CISource),
		DetailType: jsii.Strings(event.KindDeploy.DetailType),
	}
}

// newArchive keeps the deploy events, matched as the rule does, for console replay.
func newArchive(bus awsevents.EventBus, props *Props) awsevents.Archive {
	var days awscdk.Duration // nil: kept forever
	if props.ArchiveRetentionDays > 0 {
		days = awscdk.Duration_Days(jsii.Number(float64(props.ArchiveRetentionDays)))
	}
	archive := bus.Archive(jsii.String("DeployArchive"), &awsevents.BaseArchiveProps{
		Description:  jsii.String("amibump: deploy-finished events, for replay"),
		EventPattern: deployPattern(props),
		Retention:    days,
	})
	// The CDK writes KmsKeyIdentifier "" when no key is given (aws-cdk#37847),
	// which some regions refuse; with no key, the property is left out.
	archive.Node().DefaultChild().(awsevents.CfnArchive).AddPropertyDeletionOverride(jsii.String("KmsKeyIdentifier"))
	return archive
}

// newSchemas registers the schemas of the events CI puts on the bus
// (deploy-finished, rollback-requested), from the documents the function's
// validation is tested against, with the CI source of this stack.
func newSchemas(scope constructs.Construct, props *Props) (deploy, rollback awseventschemas.CfnSchema) {
	registry := awseventschemas.NewCfnRegistry(scope, jsii.String("SchemaRegistry"), &awseventschemas.CfnRegistryProps{
		RegistryName: jsii.String(props.BusName),
		Description:  jsii.String("amibump: the events CI puts on the " + props.BusName + " bus"),
	})
	schema := func(id string, k *event.Kind) awseventschemas.CfnSchema {
		return awseventschemas.NewCfnSchema(scope, jsii.String(id), &awseventschemas.CfnSchemaProps{
			RegistryName: registry.AttrRegistryName(),
			SchemaName:   jsii.String(k.DetailType),
			Type:         jsii.String(event.DeployFinishedSchemaType),
			Content:      jsii.String(schemaFor(k, props.CISource)),
			Description:  jsii.String("amibump: a " + k.DetailType + " event as the function receives it"),
		})
	}
	return schema("DeployFinishedSchema", event.KindDeploy), schema("RollbackRequestedSchema", event.KindRollback)
}

// schemaFor returns a kind's schema with the stack's CI source in its
// x-amazon-events-source.
func schemaFor(k *event.Kind, source string) string {
	var doc map[string]any
	if err := json.Unmarshal(k.Schema, &doc); err != nil {
		panic(fmt.Sprintf("amibump: the %s schema is not JSON: %v", k.DetailType, err))
	}
	doc["x-amazon-events-source"] = source
	out, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return string(out)
}
