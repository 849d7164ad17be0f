package awsfake

import "time"

// WithRecycleBin models a Recycle Bin retention rule that matches every AMI of
// the account: DeregisterImage moves the AMI to the Recycle Bin for retention
// (DeregisterImage: "If a deregistered EBS-backed AMI matches a Recycle Bin
// retention rule, it moves to the Recycle Bin for the specified retention
// period"). There it is not an AMI of the account for EC2's API: DescribeImages
// does not list it and naming its id is InvalidAMIID.NotFound. Whether its name
// stays taken is not documented: the harsher reading keeps it taken until the
// retention ends, so CreateImage with it is InvalidAMIName.Duplicate while no
// image by that name can be found.
func WithRecycleBin(retention time.Duration) Option {
	return func(cl *Cloud) { cl.recycleFor = retention }
}

// recycle keeps a deregistered image in the Recycle Bin, if there is one.
// Called with c.mu held.
func (c *Cloud) recycle(img *image, now time.Time) {
	if c.recycleFor <= 0 {
		return
	}
	if c.recycled == nil {
		c.recycled = map[string]time.Time{}
	}
	c.recycled[img.name] = now.Add(c.recycleFor)
}

// nameInRecycleBin tells whether an AMI in the Recycle Bin holds name at now.
func (c *Cloud) nameInRecycleBin(name string, now time.Time) bool {
	until, ok := c.recycled[name]
	if ok && !now.Before(until) {
		delete(c.recycled, name)
		return false
	}
	return ok
}
