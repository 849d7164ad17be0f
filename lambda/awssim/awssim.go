// Package awssim is a local AWS endpoint for amibump: an HTTP server, on
// 127.0.0.1 only, that speaks the wire protocols of exactly the operations
// amibump calls (EC2 and Auto Scaling in their Query protocols, EventBridge
// PutEvents and SSM parameters in JSON 1.1), and the few the conformance
// suite's cleanup makes, backed by the stateful fakes of package awsfake.
//
// Point the SDK at it with BaseEndpoint (or AWS_ENDPOINT_URL). A server made
// by New serves one Cloud to any credentials and region; one made by NewWorld
// serves an awsfake.World as AWS serves accounts and regions: the request's
// signature names its scope (the access key the account, the credential
// scope the region), and a key no account holds or a region the World does
// not serve gets the service's invalid-credentials error. Signatures are
// read, not verified. Errors come back as AWS sends
// them (code, message, HTTP status), so the SDK's own deserializers and
// retryer run. Faults can be injected per operation: throttling, 5xx, slow
// responses, dropped connections.
package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/awsfake"
)

// Server serves awsfake Clouds over HTTP: one, or a World's.
type Server struct {
	cloud   *awsfake.Cloud // New's; nil for NewWorld's
	world   *awsfake.World // NewWorld's; nil for New's
	resolve resolver

	mu       sync.Mutex
	faults   map[string][]*Fault
	requests map[string]int
	seq      int64
	observe  func(Call)

	srv *http.Server
	ln  net.Listener
}

// Call is what Observe reports for each request the simulator served: the
// operation, the input as the fake received it (nil when faulted or not
// decoded), the HTTP status sent, and the error code if any.
type Call struct {
	Op     string
	Input  any
	Status int
	Code   string
}

// New returns a simulator serving c to every request, whatever account and
// region it is signed for. Start it with Start or mount Handler.
func New(c *awsfake.Cloud) *Server {
	return &Server{cloud: c, resolve: oneCloud(c), faults: map[string][]*Fault{}, requests: map[string]int{}}
}

// NewWorld returns a simulator serving w: each request from the Cloud of the
// scope it is signed for.
func NewWorld(w *awsfake.World) *Server {
	return &Server{world: w, resolve: bySignature(w), faults: map[string][]*Fault{}, requests: map[string]int{}}
}

// Cloud returns the cloud a simulator made by New serves (nil for NewWorld's).
func (s *Server) Cloud() *awsfake.Cloud { return s.cloud }

// Observe sets a function called after every request (nil = none).
func (s *Server) Observe(f func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observe = f
}

// Start listens on 127.0.0.1 at port (0 = any free port) and serves in the
// background. It returns the endpoint URL, e.g. http://127.0.0.1:43117.
func (s *Server) Start(port int) (string, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "", fmt.Errorf("awssim: listen: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s.URL(), nil
}

// URL is the endpoint of a started simulator.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops a started simulator at once, dropping requests in flight.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Requests reports how many requests of op (e.g. "CreateImage") arrived,
// faulted ones included.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

func (s *Server) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%08x-5e1f-4000-8000-%012x", s.seq, s.seq)
}

// ServeHTTP routes a request by protocol: X-Amz-Target for JSON, the form's
// Version for Query (EC2 2016-11-15, Auto Scaling 2011-01-01).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPath) {
		s.serveControl(w, r)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveJSON(w, r, target)
		return
	}
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		s.writeQueryError(w, ec2Protocol, "", http.StatusBadRequest, "InvalidRequest", "awssim serves POST requests of AWS's Query and JSON protocols")
		return
	}
	action := r.PostForm.Get("Action")
	var p *protocol
	var op operation
	var ok bool
	switch r.PostForm.Get("Version") {
	case ec2Protocol.version:
		p = ec2Protocol
		op, ok = ec2Ops[action]
	case autoScalingProtocol.version:
		p = autoScalingProtocol
		op, ok = autoScalingOps[action]
	case stsProtocol.version:
		s.serveSTS(w, r, action)
		return
	default:
		s.writeQueryError(w, ec2Protocol, action, http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("API version %q is not served by awssim (EC2 2016-11-15, Auto Scaling 2011-01-01)", r.PostForm.Get("Version")))
		return
	}
	w, serve := s.applyFault(w, r, p.service, action)
	if !serve {
		return
	}
	if !ok {
		s.writeQueryError(w, p, action, http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("The action %s is not valid for this web service.", action))
		return
	}
	cloud, _, err := s.resolve(r)
	if err != nil {
		status, code, msg := authError(p.service, err)
		s.writeQueryError(w, p, action, status, code, msg)
		return
	}
	in := op.newInput()
	if err := p.decodeForm(r.PostForm, in); err != nil {
		code := "UnknownParameter"
		if p == autoScalingProtocol {
			code = "ValidationError"
		}
		s.writeQueryError(w, p, action, http.StatusBadRequest, code, err.Error())
		return
	}
	out, err := s.call(r.Context(), action, op, cloud, in)
	if err != nil {
		code, msg, server := apiError(err)
		s.writeQueryErrorInput(w, p, action, in, awsfake.HTTPStatus(code, server), code, msg)
		return
	}
	s.write(w, action, in, http.StatusOK, "", "text/xml;charset=UTF-8", p.response(action, s.requestID(), out))
}

// call serves one Query operation from cloud. A World's CopyImage is the
// World's: it reads the source region's Cloud, then writes cloud.
func (s *Server) call(ctx context.Context, action string, op operation, cloud *awsfake.Cloud, in any) (any, error) {
	if copyIn, ok := in.(*ec2.CopyImageInput); ok && s.world != nil && action == "CopyImage" {
		return s.world.CopyImage(ctx, cloud.Scope(), copyIn)
	}
	return op.call(ctx, cloud, in)
}

func (s *Server) writeQueryError(w http.ResponseWriter, p *protocol, action string, status int, code, msg string) {
	s.writeQueryErrorInput(w, p, action, nil, status, code, msg)
}

func (s *Server) writeQueryErrorInput(w http.ResponseWriter, p *protocol, action string, in any, status int, code, msg string) {
	body := p.errorResponse(code, msg, s.requestID(), status >= 500)
	s.write(w, action, in, status, code, "text/xml;charset=UTF-8", body)
}

func (s *Server) write(w http.ResponseWriter, op string, in any, status int, code, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
	s.mu.Lock()
	observe := s.observe
	s.mu.Unlock()
	if observe != nil {
		observe(Call{Op: op, Input: in, Status: status, Code: code})
	}
}

// apiError reads the AWS error code, message and fault from a fake's error.
func apiError(err error) (code, msg string, server bool) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode(), apiErr.ErrorMessage(), apiErr.ErrorFault() == smithy.FaultServer
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "RequestCanceled", err.Error(), true
	}
	return "InternalError", err.Error(), true
}

// putEventsRequest is PutEvents' JSON body as the SDK sends it.
type putEventsRequest struct {
	Entries []struct {
		Source, DetailType, Detail, EventBusName, TraceHeader *string
		Resources                                             []string
		Time                                                  *json.Number // epoch seconds
	}
	EndpointId *string
}

type putEventsResponse struct {
	Entries []putEventsResultEntry `json:"Entries"`
	// FailedEntryCount is always sent, 0 included, as EventBridge does.
	FailedEntryCount int32 `json:"FailedEntryCount"`
}

type putEventsResultEntry struct {
	EventId      *string `json:",omitempty"`
	ErrorCode    *string `json:",omitempty"`
	ErrorMessage *string `json:",omitempty"`
}

const jsonContentType = "application/x-amz-json-1.1"

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, target string) {
	service, action, _ := strings.Cut(target, ".")
	if service == ssmTargetPrefix {
		s.serveSSM(w, r, action)
		return
	}
	if service != "AWSEvents" {
		s.writeJSONError(w, action, nil, http.StatusBadRequest, "UnknownOperationException", "awssim serves AWSEvents.PutEvents only, not "+target)
		return
	}
	w, serve := s.applyFault(w, r, "EventBridge", action)
	if !serve {
		return
	}
	if action != "PutEvents" {
		s.writeJSONError(w, action, nil, http.StatusBadRequest, "UnknownOperationException", "awssim serves AWSEvents.PutEvents only, not "+target)
		return
	}
	cloud, _, err := s.resolve(r)
	if err != nil {
		status, code, msg := authError("EventBridge", err)
		s.writeJSONError(w, action, nil, status, code, msg)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	in, err := decodePutEvents(body)
	if err != nil {
		s.writeJSONError(w, action, nil, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	var out *eventbridge.PutEventsOutput
	if s.world != nil {
		// Another account's bus is authorized by its policy (World.PutEvents).
		key, region := credential(r)
		out, err = s.world.PutEvents(r.Context(), key, region, in)
	} else {
		out, err = cloud.EventBridge().PutEvents(r.Context(), in)
	}
	if err != nil {
		code, msg, server := apiError(err)
		s.writeJSONError(w, action, in, awsfake.HTTPStatus(code, server), code, msg)
		return
	}
	resp := putEventsResponse{Entries: []putEventsResultEntry{}, FailedEntryCount: out.FailedEntryCount}
	for _, e := range out.Entries {
		resp.Entries = append(resp.Entries, putEventsResultEntry{EventId: e.EventId, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage})
	}
	b, err := json.Marshal(resp)
	if err != nil {
		panic(err) // plain strings and numbers always marshal
	}
	s.write(w, action, in, http.StatusOK, "", jsonContentType, b)
}

func (s *Server) writeJSONError(w http.ResponseWriter, op string, in any, status int, code, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
	w.Header().Set("X-Amzn-ErrorType", code)
	s.write(w, op, in, status, code, jsonContentType, b)
}
