package awsfake

// TagLaunchTemplate adds or overwrites tags of a launch template, as EC2's
// CreateTags does (a person editing the template's tags in the console).
// With WithEventualConsistency, readers see the change after a lag.
func (c *Cloud) TagLaunchTemplate(id string, tags map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lt, ok := c.templates[id]
	if !ok {
		return
	}
	all := copyTags(lt.tags)
	for k, v := range tags {
		all[k] = v
	}
	c.setTags(lt, all)
}

// UntagLaunchTemplate removes tags of a launch template by key, as EC2's
// DeleteTags does.
func (c *Cloud) UntagLaunchTemplate(id string, keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lt, ok := c.templates[id]
	if !ok {
		return
	}
	all := copyTags(lt.tags)
	for _, k := range keys {
		delete(all, k)
	}
	c.setTags(lt, all)
}

func derefBool(p *bool) bool { return p != nil && *p }
