package awsfake

import (
	"math/rand/v2"
	"time"
)

// WithEventualConsistency makes reads lag writes, as the EC2 API does (the Amazon
// EC2 Developer Guide, "Eventual consistency in the Amazon EC2 API": "the result
// of an API command you run that affects your Amazon EC2 resources might not be
// immediately visible to all subsequent commands you run"). Each write draws
// its own lag, uniformly in [0, maxLag], from a generator seeded with seed, and
// the lag runs on the cloud's Clock: with a ManualClock, nothing becomes visible
// until the test moves the clock. For that long after the write:
//
//   - a new AMI is invisible: by id InvalidAMIID.NotFound, by filter absent (its
//     name is taken at once: CreateImage with it is InvalidAMIName.Duplicate);
//   - a deregistered AMI is still listed, in state deregistered;
//   - a new launch template version is not listed, is not $Latest to readers,
//     and ModifyLaunchTemplate or SourceVersion naming it answer
//     InvalidLaunchTemplateId.VersionNotFound;
//   - a deleted version is still listed;
//   - a moved $Default still reads as the version before;
//   - changed launch template tags still read (and filter) as before.
//
// Writes act on the true state: a ClientToken replay, DeleteLaunchTemplateVersions
// and the "cannot delete $Default" rule see every write at once. AWS documents
// no bound on the lag; tests choose one, and a failing run replays with its seed.
func WithEventualConsistency(seed uint64, maxLag time.Duration) Option {
	return func(cl *Cloud) {
		cl.lagRand = rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
		cl.maxLag = maxLag
	}
}

// StartEventualConsistency makes reads lag writes from now on, as
// WithEventualConsistency does from the start: for a test that seeds the
// cloud first, with every seeded write visible at once.
func (c *Cloud) StartEventualConsistency(seed uint64, maxLag time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	WithEventualConsistency(seed, maxLag)(c)
}

// lag draws how long the write being made stays invisible to reads (0 when
// the cloud is consistent). Called with c.mu held.
func (c *Cloud) lag() time.Duration {
	if c.lagRand == nil || c.maxLag <= 0 {
		return 0
	}
	return time.Duration(c.lagRand.Int64N(int64(c.maxLag) + 1))
}

// ghost is a deleted launch template version that reads still list.
type ghost struct {
	v     *ltVersion
	until time.Time
}

// seen returns the template as a read at now sees it: versions not visible yet
// left out, versions deleted lately still in, $Default and tags as they were
// before their last change while that change is not visible. Without lag it
// is lt itself. The copy shares versions with lt: read it, never write it.
func (lt *template) seen(now time.Time) *template {
	if len(lt.ghosts) == 0 && now.Compare(lt.defaultSeenAt) >= 0 && now.Compare(lt.tagsSeenAt) >= 0 && !lt.hidesVersions(now) {
		return lt
	}
	view := *lt
	view.versions = map[int64]*ltVersion{}
	for n, v := range lt.versions {
		if now.Compare(v.visibleAt) >= 0 {
			view.versions[n] = v
		}
	}
	for n, g := range lt.ghosts {
		if now.Before(g.until) {
			view.versions[n] = g.v
		} else {
			delete(lt.ghosts, n)
		}
	}
	if now.Before(lt.defaultSeenAt) && view.versions[lt.prevDefault] != nil {
		view.defaultVersion = lt.prevDefault
	}
	if now.Before(lt.tagsSeenAt) {
		view.tags = lt.prevTags
	}
	return &view
}

func (lt *template) hidesVersions(now time.Time) bool {
	for _, v := range lt.versions {
		if now.Before(v.visibleAt) {
			return true
		}
	}
	return false
}

// moveDefault sets the template's default version; readers see the move after a lag.
func (c *Cloud) moveDefault(lt *template, n int64) {
	now := c.now()
	if d := c.lag(); d > 0 && n != lt.defaultVersion {
		lt.prevDefault, lt.defaultSeenAt = lt.seen(now).defaultVersion, now.Add(d)
	}
	lt.defaultVersion = n
}

// forgetVersion deletes a version; readers still list it for a lag.
func (c *Cloud) forgetVersion(lt *template, n int64) {
	if d := c.lag(); d > 0 {
		if lt.ghosts == nil {
			lt.ghosts = map[int64]ghost{}
		}
		lt.ghosts[n] = ghost{v: lt.versions[n], until: c.now().Add(d)}
	}
	delete(lt.versions, n)
}

// setTags replaces a template's tags; readers see the change after a lag.
func (c *Cloud) setTags(lt *template, tags map[string]string) {
	now := c.now()
	if d := c.lag(); d > 0 {
		lt.prevTags, lt.tagsSeenAt = lt.seen(now).tags, now.Add(d)
	}
	lt.tags = tags
}
