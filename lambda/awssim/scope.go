package awssim

import (
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// A request names its scope in its Signature Version 4 signature, as AWS
// reads it: the Authorization header's Credential is
// <access key>/<date>/<region>/<service>/aws4_request. The access key names
// the account (awsfake.World.Resolve), the credential scope's region the
// region.

// credential reads the access key and the region of a request's signature
// ("" when the request is not signed).
func credential(r *http.Request) (key, region string) {
	auth := r.Header.Get("Authorization")
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], parts[2]
}

// authError is what each service answers a request whose access key no
// account holds, or that is signed for a region the account cannot use
// (behaviour ledger, lambda/awsfake: "Credentials and regions"): EC2
// AuthFailure (401); Auto Scaling and STS, the other Query APIs,
// InvalidClientTokenId (403); EventBridge and SSM, JSON APIs,
// UnrecognizedClientException (400). An unsigned request is
// MissingAuthenticationToken (403).
func authError(service string, err error) (status int, code, msg string) {
	if errors.Is(err, errUnsigned) {
		return http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"
	}
	switch service {
	case ec2Protocol.service:
		return http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"
	case "EventBridge", ssmService:
		return http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	return http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."
}

var errUnsigned = errors.New("the request is not signed")

// resolver picks the Cloud that serves a request, and who is calling.
type resolver func(r *http.Request) (*awsfake.Cloud, awsfake.Identity, error)

// oneCloud serves every request from c, whatever its signature: the
// single-account setups (awssim.New).
func oneCloud(c *awsfake.Cloud) resolver {
	id := awsfake.Identity{Account: c.Scope().Account, User: "awssim"}
	return func(*http.Request) (*awsfake.Cloud, awsfake.Identity, error) { return c, id, nil }
}

// bySignature serves each request from the World's Cloud of the request's
// scope, as AWS does (awssim.NewWorld).
func bySignature(w *awsfake.World) resolver {
	return func(r *http.Request) (*awsfake.Cloud, awsfake.Identity, error) {
		key, region := credential(r)
		if key == "" {
			return nil, awsfake.Identity{}, errUnsigned
		}
		return w.Resolve(key, region)
	}
}

// stsProtocol is STS's Query dialect (awsQuery, as Auto Scaling's).
var stsProtocol = &protocol{
	service:   "STS",
	version:   "2011-06-15",
	namespace: "https://sts.amazonaws.com/doc/2011-06-15/",
	listItem:  autoScalingProtocol.listItem,
	queryName: autoScalingProtocol.queryName,
	listKey:   autoScalingProtocol.listKey,
	xmlName:   autoScalingProtocol.xmlName,
}

// serveSTS answers the STS calls amibump makes: GetCallerIdentity (the CLI's
// headers name the account), who the request's key signs as, needing no
// permission, as in AWS; and, for a World, AssumeRole (World.AssumeRole: the
// role's trust decides; the keys it returns sign as the role in its account).
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, action string) {
	w, serve := s.applyFault(w, r, stsProtocol.service, action)
	if !serve {
		return
	}
	if action != "GetCallerIdentity" && (action != "AssumeRole" || s.world == nil) {
		s.writeQueryError(w, stsProtocol, action, http.StatusBadRequest, "InvalidAction",
			"awssim serves STS GetCallerIdentity (and AssumeRole for a World) only, not "+action)
		return
	}
	c, id, err := s.resolve(r)
	if err != nil {
		status, code, msg := authError(stsProtocol.service, err)
		s.writeQueryError(w, stsProtocol, action, status, code, msg)
		return
	}
	if action == "AssumeRole" {
		s.assumeRole(w, r, c.Partition())
		return
	}
	out := &sts.GetCallerIdentityOutput{Account: aws.String(id.Account), Arn: aws.String(id.ARN(c.Partition())), UserId: aws.String(id.UserID())}
	s.write(w, action, &sts.GetCallerIdentityInput{}, http.StatusOK, "", "text/xml;charset=UTF-8", stsProtocol.response(action, s.requestID(), out))
}

// assumeRole answers STS AssumeRole from the World.
func (s *Server) assumeRole(w http.ResponseWriter, r *http.Request, partition string) {
	const action = "AssumeRole"
	in := &sts.AssumeRoleInput{}
	if err := stsProtocol.decodeForm(r.PostForm, in); err != nil {
		s.writeQueryError(w, stsProtocol, action, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	key, _ := credential(r)
	creds, err := s.world.AssumeRole(key, aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName))
	if err != nil {
		code, msg, server := apiError(err)
		s.writeQueryErrorInput(w, stsProtocol, action, in, awsfake.HTTPStatus(code, server), code, msg)
		return
	}
	ident, _ := s.world.CallerIdentity(creds.AccessKeyID)
	out := &sts.AssumeRoleOutput{
		AssumedRoleUser: &ststypes.AssumedRoleUser{Arn: aws.String(ident.ARN(partition)), AssumedRoleId: aws.String(ident.UserID())},
		Credentials: &ststypes.Credentials{AccessKeyId: aws.String(creds.AccessKeyID), SecretAccessKey: aws.String(creds.SecretAccessKey),
			SessionToken: aws.String(creds.SessionToken), Expiration: aws.Time(creds.Expiration)},
	}
	s.write(w, action, in, http.StatusOK, "", "text/xml;charset=UTF-8", stsProtocol.response(action, s.requestID(), out))
}
