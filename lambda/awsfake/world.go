package awsfake

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Scope is where a Cloud lives: one account in one region, as AWS scopes its
// resources, quotas and throttling.
type Scope struct {
	Account string // 12 digits
	Region  string // e.g. us-east-1
}

// Account, Region and Partition are the scope of the Cloud that New makes
// (DefaultScope); a Cloud of a World reads its own from Scope.
const (
	Account = "123456789012"
	Region  = "us-east-1"
	// Partition is the partition of Region.
	Partition = "aws"
)

// DefaultScope is the scope of the Cloud that New makes.
var DefaultScope = Scope{Account: Account, Region: Region}

// DefaultAccessKey is the access key of DefaultScope's account in the test
// environment (package awsfaketest): the key the local tools (make demo, make
// sim, the end-to-end harness, the benchmark) sign their requests with.
const DefaultAccessKey = "AKIDLOCALAMIBUMP"

// Partition is the partition of the scope's region: aws-cn for the China
// regions, aws-us-gov for GovCloud, aws-eusc for the European Sovereign
// Cloud, the isolated partitions, aws elsewhere.
func (s Scope) Partition() string {
	// The AWS SDKs' partition metadata, by region name prefix; kept apart
	// from amibump's own table (plan.PartitionOf) so the two check each other.
	for _, p := range [][2]string{{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-isof-", "aws-iso-f"},
		{"eu-isoe-", "aws-iso-e"}, {"us-iso-", "aws-iso"}, {"eusc-", "aws-eusc"}} {
		if strings.HasPrefix(s.Region, p[0]) {
			return p[1]
		}
	}
	return "aws"
}

// String is account/region.
func (s Scope) String() string { return s.Account + "/" + s.Region }

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// validate says what is wrong with a scope a test declares.
func (s Scope) validate() error {
	var problems []string
	if !accountPattern.MatchString(s.Account) {
		problems = append(problems, fmt.Sprintf("account %q is not 12 digits", s.Account))
	}
	if !regionPattern.MatchString(s.Region) {
		problems = append(problems, fmt.Sprintf("region %q is not a region name such as us-east-1", s.Region))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Identity is who an access key signs as, as STS GetCallerIdentity answers:
// the account and the IAM user of the key.
type Identity struct {
	Account string
	User    string // the IAM user name (the role's name for an assumed role)
	// Role and Session name an assumed role's session (World.AssumeRole);
	// "" for an IAM user's key.
	Role, Session string
}

// ARN is the identity's ARN in a partition, as GetCallerIdentity answers it:
// arn:<partition>:iam::<account>:user/<name>, or
// arn:<partition>:sts::<account>:assumed-role/<role>/<session>.
func (id Identity) ARN(partition string) string {
	if id.Role != "" {
		return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, id.Account, id.Role, id.Session)
	}
	return fmt.Sprintf("arn:%s:iam::%s:user/%s", partition, id.Account, id.User)
}

// PrincipalARN is the IAM ARN a policy names the identity by: the user's, or
// the assumed role's role ARN.
func (id Identity) PrincipalARN(partition string) string {
	if id.Role != "" {
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, id.Account, id.Role)
	}
	return id.ARN(partition)
}

// UserID is the identity's unique id, as GetCallerIdentity's UserId: AIDA and
// 17 characters derived from the account and the name (deterministic); for an
// assumed role, AROA and the role's 17 characters, a colon and the session.
func (id Identity) UserID() string {
	if id.Role != "" {
		return fmt.Sprintf("AROA%017X:%s", fnv(id.Account+"/role/"+id.Role), id.Session)
	}
	return fmt.Sprintf("AIDA%017X", fnv(id.Account+"/"+id.User))
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// ids is the source of every generated id of a World's Clouds: ids never
// collide across accounts and regions, as in AWS, and are deterministic for a
// test that makes its calls in order.
type ids struct{ n atomic.Int64 }

func (s *ids) next() int64 { return s.n.Add(1) }

// World is every account and region a test talks to: one clock, one id space,
// the accounts by access key and the Clouds by Scope. A Cloud is the state of
// one scope; it knows its scope (account, region, partition) and holds its
// lock for a whole operation.
//
// An operation that spans two Clouds (CopyImage from another region, a
// PutEvents to another account's bus, AssumeRole into another account) is a
// World method that locks one Cloud at a time, never two at once: a Cloud
// holds no pointer to another Cloud (nor to the World), so a Cloud's
// operation cannot reach another Cloud while it holds its own lock.
//
// What belongs to the World and not to a Cloud, as each lands:
//   - STS: CallerIdentity answers GetCallerIdentity; AssumeRole checks a
//     role's trust (AddRole, SetOrganization) and returns temporary keys
//     that sign as the role in its account (world_accounts.go).
//   - EventBridge bus policies (PutBusPolicy), read by the World's
//     PutEvents for another account's bus: the receiving bus's policy
//     decides for each entry, beside the sender's own permission set.
type World struct {
	mu     sync.Mutex
	clock  Clock
	ids    *ids
	opts   []Option
	keys   map[string]Identity
	clouds map[Scope]*Cloud
	// regions the World serves; a Cloud is made on demand in these only.
	regions map[string]bool
	// Accounts (world_accounts.go): IAM roles and their trust, each
	// account's organisation, each bus's resource policy.
	roles       map[roleKey]Trust
	orgs        map[string]string
	busPolicies map[busKey][]BusStatement
}

// NewWorld returns a World with no accounts and no regions: declare them with
// AddAccessKey and Cloud (or EnableRegion). opts apply to every Cloud the World
// makes; WithClock sets the World's one clock (default: a RunningClock started
// at Epoch()).
func NewWorld(opts ...Option) *World {
	probe := &Cloud{clock: NewRunningClock(Epoch())}
	for _, o := range opts {
		o(probe)
	}
	return &World{clock: probe.clock, ids: &ids{}, opts: opts, keys: map[string]Identity{},
		clouds: map[Scope]*Cloud{}, regions: map[string]bool{},
		roles: map[roleKey]Trust{}, orgs: map[string]string{}, busPolicies: map[busKey][]BusStatement{}}
}

// Clock returns the World's clock, which every Cloud of the World runs on.
func (w *World) Clock() Clock { return w.clock }

// AddAccessKey makes key sign as the IAM user user of account (which need not
// have a Cloud yet). Adding a key again replaces its identity.
func (w *World) AddAccessKey(key, account, user string) Identity {
	if !accountPattern.MatchString(account) {
		panic(fmt.Sprintf("awsfake: account %q is not 12 digits", account))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	id := Identity{Account: account, User: user}
	w.keys[key] = id
	return id
}

// EnableRegion makes the World serve region: Clouds are made there on demand.
func (w *World) EnableRegion(region string) {
	if err := (Scope{Account: Account, Region: region}).validate(); err != nil {
		panic("awsfake: " + err.Error())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.regions[region] = true
}

// Cloud returns the Cloud of a scope, making it (empty, with the World's
// options) the first time; the scope's region becomes one the World serves.
// A scope that is not an account id and a region name panics: it is a test's
// mistake.
func (w *World) Cloud(s Scope) *Cloud {
	if err := s.validate(); err != nil {
		panic("awsfake: " + err.Error())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.regions[s.Region] = true
	return w.cloud(s)
}

// cloud returns or makes the Cloud of s, with w.mu held.
func (w *World) cloud(s Scope) *Cloud {
	if c, ok := w.clouds[s]; ok {
		return c
	}
	c := newCloud(s, w.ids, w.opts)
	c.clock = w.clock
	w.clouds[s] = c
	return c
}

// Scopes lists the scopes that have a Cloud, by account then region.
func (w *World) Scopes() []Scope {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.SortedFunc(maps.Keys(w.clouds), func(a, b Scope) int { return strings.Compare(a.String(), b.String()) })
}

// ErrUnknownKey and ErrUnknownRegion are why Resolve refuses a request: AWS
// answers both with the service's invalid-credentials error (awssim words it).
var (
	ErrUnknownKey    = errors.New("the access key is not known to any account")
	ErrUnknownRegion = errors.New("the region is not enabled")
)

// Resolve is what AWS does with a signed request: the access key names the
// account (ErrUnknownKey if none), the credential scope the region
// (ErrUnknownRegion if the World does not serve it); it returns the scope's
// Cloud, made on demand, and the caller's identity.
func (w *World) Resolve(accessKey, region string) (*Cloud, Identity, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id, ok := w.keys[accessKey]
	if !ok {
		return nil, Identity{}, fmt.Errorf("%w: %q", ErrUnknownKey, accessKey)
	}
	if !w.regions[region] {
		return nil, Identity{}, fmt.Errorf("%w: %q", ErrUnknownRegion, region)
	}
	return w.cloud(Scope{Account: id.Account, Region: region}), id, nil
}

// CallerIdentity is STS GetCallerIdentity for a signed request: who the key
// signs as. It needs no permission, as in AWS.
func (w *World) CallerIdentity(accessKey string) (Identity, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id, ok := w.keys[accessKey]
	if !ok {
		return Identity{}, fmt.Errorf("%w: %q", ErrUnknownKey, accessKey)
	}
	return id, nil
}
