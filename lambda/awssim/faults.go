package awssim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Fault is what the simulator does to a request of an operation instead of, or
// before, serving it. Faults are checked before the request is decoded, so a
// faulted request changes nothing, except with LoseResponse.
type Fault struct {
	// Times is how many requests the fault hits; 0 = every request until Clear.
	Times int `json:"times,omitempty"`
	// Delay holds the request this long first (then Status, Drop, or a normal answer).
	Delay time.Duration `json:"delay,omitempty"`
	// Drop closes the connection without an answer.
	Drop bool `json:"drop,omitempty"`
	// LoseResponse serves the request, then closes the connection instead of
	// answering: the change is made and the caller does not know (the SDK
	// retries, meeting what the first attempt did).
	LoseResponse bool `json:"loseResponse,omitempty"`
	// Throttle answers with the service's throttling error: EC2
	// RequestLimitExceeded (503), Auto Scaling Throttling (400), EventBridge
	// ThrottlingException (400).
	Throttle bool `json:"throttle,omitempty"`
	// Status answers with an error of this HTTP status: Code, or for 500 the
	// service's internal error and for 503 its unavailable error.
	Status int    `json:"status,omitempty"`
	Code   string `json:"code,omitempty"`
}

// Throttled is a fault answering n requests with the service's throttling error.
func Throttled(n int) Fault { return Fault{Times: n, Throttle: true} }

// ServerError is a fault answering n requests with a 5xx error (500 or 503).
func ServerError(status, n int) Fault { return Fault{Times: n, Status: status} }

// Slow is a fault holding n requests for d before answering them normally.
func Slow(d time.Duration, n int) Fault { return Fault{Times: n, Delay: d} }

// Dropped is a fault closing the connection of n requests without an answer.
func Dropped(n int) Fault { return Fault{Times: n, Drop: true} }

// LostResponses is a fault serving n requests and losing their answers.
func LostResponses(n int) Fault { return Fault{Times: n, LoseResponse: true} }

// Persistent makes f hit every request until Clear.
func Persistent(f Fault) Fault { f.Times = 0; return f }

// AnyOperation, as the op of Inject, makes a fault hit every operation.
const AnyOperation = "*"

// Inject adds a fault to op (an action such as "CreateImage", or AnyOperation).
// An operation's faults apply in the order injected, each until used up.
func (s *Server) Inject(op string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Times = max(f.Times, 0)
	if f.Times == 0 {
		f.Times = math.MaxInt
	}
	s.faults[op] = append(s.faults[op], &f)
}

// Clear removes every fault.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]*Fault{}
}

// take counts a request of op and returns the fault it meets, if any.
func (s *Server) take(op string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[op]++
	for _, key := range []string{op, AnyOperation} {
		q := s.faults[key]
		for len(q) > 0 && q[0].Times <= 0 {
			q = q[1:]
		}
		s.faults[key] = q
		if len(q) > 0 {
			q[0].Times--
			return *q[0], true
		}
	}
	return Fault{}, false
}

// applyFault applies op's next fault to the request. It reports whether the
// request should still be served, and the writer to serve it with.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, service, op string) (http.ResponseWriter, bool) {
	f, ok := s.take(op)
	if !ok {
		return w, true
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return w, false
		}
	}
	switch {
	case f.Drop:
		drop(w)
		s.notify(Call{Op: op, Code: "(connection dropped)"})
		return w, false
	case f.LoseResponse:
		return &losingWriter{ResponseWriter: w, lost: func() { s.notify(Call{Op: op, Code: "(response lost)"}) }}, true
	case f.Throttle || f.Status != 0:
		status, code, msg := faultError(service, f)
		if service == "EventBridge" || service == ssmService {
			s.writeJSONError(w, op, nil, status, code, msg)
		} else {
			p := ec2Protocol
			switch service {
			case autoScalingProtocol.service:
				p = autoScalingProtocol
			case stsProtocol.service:
				p = stsProtocol
			}
			s.writeQueryError(w, p, op, status, code, msg)
		}
		return w, false
	}
	return w, true
}

// drop closes the request's connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("awssim: the connection cannot be hijacked to drop it")
	}
	if conn, _, err := hj.Hijack(); err == nil {
		_ = conn.Close()
	}
}

// losingWriter drops the connection where the answer would be written.
type losingWriter struct {
	http.ResponseWriter
	lost func()
	done bool
}

func (l *losingWriter) lose() {
	if !l.done {
		l.done = true
		drop(l.ResponseWriter)
		l.lost()
	}
}

func (l *losingWriter) WriteHeader(int) { l.lose() }

func (l *losingWriter) Write(b []byte) (int, error) {
	l.lose()
	return len(b), nil
}

func (s *Server) notify(c Call) {
	s.mu.Lock()
	observe := s.observe
	s.mu.Unlock()
	if observe != nil {
		observe(c)
	}
}

// faultError is the status, code and message AWS sends for a fault.
func faultError(service string, f Fault) (int, string, string) {
	if f.Throttle {
		switch service {
		case "EC2":
			return http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."
		case "EventBridge", ssmService:
			return http.StatusBadRequest, "ThrottlingException", "Rate exceeded"
		}
		return http.StatusBadRequest, "Throttling", "Rate exceeded"
	}
	code := f.Code
	if code == "" {
		code = map[string]map[int]string{
			"EC2":          {500: "InternalError", 503: "Unavailable"},
			"Auto Scaling": {500: "InternalFailure", 503: "ServiceUnavailable"},
			"STS":          {500: "InternalFailure", 503: "ServiceUnavailable"},
			"EventBridge":  {500: "InternalException", 503: "ServiceUnavailable"},
			ssmService:     {500: "InternalServerError", 503: "ServiceUnavailable"},
		}[service][f.Status]
	}
	if code == "" {
		code = "InternalError"
	}
	return f.Status, code, fmt.Sprintf("awssim: injected %s (%d)", code, f.Status)
}

// decodePutEvents reads PutEvents' JSON body into the SDK's input.
func decodePutEvents(body []byte) (*eventbridge.PutEventsInput, error) {
	var req putEventsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("cannot read PutEvents request: %v", err)
	}
	in := &eventbridge.PutEventsInput{EndpointId: req.EndpointId}
	if req.Entries != nil {
		in.Entries = []ebtypes.PutEventsRequestEntry{}
	}
	for _, e := range req.Entries {
		entry := ebtypes.PutEventsRequestEntry{Source: e.Source, DetailType: e.DetailType, Detail: e.Detail,
			EventBusName: e.EventBusName, TraceHeader: e.TraceHeader, Resources: e.Resources}
		if e.Time != nil {
			secs, err := strconv.ParseFloat(string(*e.Time), 64)
			if err != nil {
				return nil, fmt.Errorf("entry Time %s: want epoch seconds", *e.Time)
			}
			whole, frac := math.Modf(secs)
			entry.Time = aws.Time(time.Unix(int64(whole), int64(math.Round(frac*1e3))*1e6).UTC())
		}
		in.Entries = append(in.Entries, entry)
	}
	return in, nil
}

// controlPath is where the control API lives: POST controlPath+"faults" with
// {"op": "CreateImage", "fault": {...}} injects a fault, DELETE clears them,
// GET controlPath+"requests?op=X" reports a count.
const controlPath = "/_awssim/"

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == controlPath+"faults" && r.Method == http.MethodPost:
		var req struct {
			Op    string `json:"op"`
			Fault Fault  `json:"fault"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Op == "" {
			http.Error(w, `want {"op": "CreateImage", "fault": {"times": 2, "throttle": true}}`, http.StatusBadRequest)
			return
		}
		s.Inject(req.Op, req.Fault)
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == controlPath+"faults" && r.Method == http.MethodDelete:
		s.Clear()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == controlPath+"requests" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int{"requests": s.Requests(r.URL.Query().Get("op"))})
	default:
		http.NotFound(w, r)
	}
}
