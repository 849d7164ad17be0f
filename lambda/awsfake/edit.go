package awsfake

// Bad answers. An answer from AWS is input too: a field the SDK's structs make
// a pointer may be nil (the service left it out), an enum may hold a value
// newer than the SDK (EC2's image states have grown: "disabled" came in 2023,
// see "Disable an Amazon EC2 AMI" in the EC2 User Guide), a tag may have an
// empty value (EC2 allows it: "Tag restrictions" in the Amazon EC2 User Guide,
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html, a value
// of 0 to 256 characters). AWS documents none of the first two for these calls,
// so the harsher reading holds: any of it can happen. EditNext lets a test serve
// such an answer without teaching the fake to make it.

// EditNext makes the next successful call of op pass its output through edit
// before it is returned: edit receives the output as the SDK returns it (such
// as *ec2.DescribeImagesOutput) and may change it in place, to drop fields,
// set an unknown state or empty a tag. The output is the caller's copy, so the
// fake's state is unchanged. Edits queue: each is used by one call; a call that
// fails (FailNext, Deny, AWS's own checks) uses none.
func (c *Cloud) EditNext(op string, edit func(out any)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.editNext == nil {
		c.editNext = map[string][]func(any){}
	}
	c.editNext[op] = append(c.editNext[op], edit)
}

// edit applies the next queued edit of op to out, with c.mu held.
func (c *Cloud) edit(op string, out any) {
	q := c.editNext[op]
	if len(q) == 0 {
		return
	}
	c.editNext[op] = q[1:]
	q[0](out)
}
