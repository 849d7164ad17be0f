package bump

import (
	"github.com/amibump/amibump/lambda/plan"
)

// Bad input from AWS is input too: what an account may hold that amibump must
// not act on, each turned into a rejection a person can act on.

// checkLatestImage rejects a template whose $Latest sets no ImageId. Whatever
// launches from such a template chooses the AMI itself (an EKS managed node
// group, AWS Batch, an EC2 Fleet override, a RunInstances call naming one):
// adding an ImageId would change what it launches, so amibump leaves it alone.
func checkLatestImage(t target, p plan.Template) error {
	latest := p.Latest()
	for _, v := range p.Versions {
		if v.Number == latest && v.ImageID == "" {
			return rejectf("version %d ($Latest) of %s sets no ImageId, so whatever launches from it chooses the AMI itself; amibump does not add one. "+
				"Set an ImageId in a new version, or remove the amibump tags from the template", latest, t.Name)
		}
	}
	return nil
}
