package awsfake

// TagLaunchTemplate adds or overwrites tags of a launch template, as EC2's
// CreateTags does (a person editing the template's tags in the console).
// With WithEventualConsistency, readers see the change after a lag.
func (c *Cloud) TagLaunchTemplate(id string, tags map[string]string) {
	c.editTemplateTags(id, func(all map[string]string) {
		for k, v := range tags {
			all[k] = v
		}
	})
}

// UntagLaunchTemplate removes tags of a launch template by key, as EC2's
// DeleteTags does.
func (c *Cloud) UntagLaunchTemplate(id string, keys ...string) {
	c.editTemplateTags(id, func(all map[string]string) {
		for _, k := range keys {
			delete(all, k)
		}
	})
}

// editTemplateTags applies edit to a copy of a template's tags and sets the
// result; an unknown template is left alone.
func (c *Cloud) editTemplateTags(id string, edit func(map[string]string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lt, ok := c.templates[id]
	if !ok {
		return
	}
	all := copyTags(lt.tags)
	edit(all)
	c.setTags(lt, all)
}

func derefBool(p *bool) bool { return p != nil && *p }
