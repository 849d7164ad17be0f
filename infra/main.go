// Command infra is the CDK app that deploys amibump: `cdk synth` / `cdk deploy`
// run it (see cdk.json). It reads the settings from the context, validates them
// and builds the stack Amibump with the amibump construct, for one account and
// region; and, when orgTargets is set, the stack AmibumpOrg, the organisation's
// StackSet of the same construct.
package main

import (
	"fmt"
	"os"

	"github.com/amibump/amibump/infra/amibump"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	values := map[string]any{}
	for _, key := range append(contextKeys, orgKeys...) {
		if v := app.Node().TryGetContext(jsii.String(key)); v != nil {
			values[key] = v
		}
	}
	props, err := propsIn(values, os.Getenv("CDK_DEFAULT_REGION")) // the stack deploys in the CLI's region
	var org *amibump.OrgProps
	if err == nil {
		org, err = orgFromContext(values, props)
	}
	if unknown := unknownKeys(app.Node().GetAllContext(nil)); err == nil && unknown != nil {
		err = unknown
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "amibump: bad settings (cdk.json context or -c key=value):\n%v\n", err)
		jsii.Close()
		os.Exit(1)
	}
	stack := awscdk.NewStack(app, jsii.String("Amibump"), &awscdk.StackProps{
		Description: jsii.String("amibump: keeps Auto Scaling groups launching the release in production"),
	})
	amibump.New(stack, "Amibump", props)
	if org != nil {
		orgStack := awscdk.NewStack(app, jsii.String("AmibumpOrg"), &awscdk.StackProps{
			Description: jsii.String("amibump for an organisation: the StackSet of the amibump stack, in every account of its OUs"),
		})
		amibump.NewOrg(orgStack, "Org", org)
	}
	app.Synth(nil)
}
