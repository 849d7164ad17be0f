package awssim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// SSM speaks JSON 1.1: POST /, X-Amz-Target AmazonSSM.<Action>, the input's
// members by their model names; errors carry the code in __type and in the
// X-Amzn-ErrorType header (the SDK reads either).
const (
	ssmTargetPrefix = "AmazonSSM"
	ssmService      = "SSM"
)

// jsonOp is one JSON 1.1 action: decode the body into the SDK's input, call
// the fake, encode its output as the service would.
type jsonOp struct {
	newInput func() any
	call     func(ctx context.Context, c *awsfake.Cloud, in any) (any, error)
}

func ssmOp[I, O any](m func(*awsfake.SSM, context.Context, *I, ...func(*ssm.Options)) (*O, error), encode func(*O) any) jsonOp {
	return jsonOp{
		newInput: func() any { return new(I) },
		call: func(ctx context.Context, c *awsfake.Cloud, in any) (any, error) {
			out, err := m(c.SSM(), ctx, in.(*I))
			if err != nil {
				return nil, err
			}
			return encode(out), nil
		},
	}
}

// The SSM operations the simulator serves: amibump's three, GetParameters, and
// the two the conformance suite's cleanup calls.
var ssmOps = map[string]jsonOp{
	"GetParameter": ssmOp((*awsfake.SSM).GetParameter, func(o *ssm.GetParameterOutput) any {
		return map[string]any{"Parameter": wireParameter(o.Parameter)}
	}),
	"GetParameters": ssmOp((*awsfake.SSM).GetParameters, func(o *ssm.GetParametersOutput) any {
		ps := []any{}
		for i := range o.Parameters {
			ps = append(ps, wireParameter(&o.Parameters[i]))
		}
		return map[string]any{"Parameters": ps, "InvalidParameters": o.InvalidParameters}
	}),
	"PutParameter": ssmOp((*awsfake.SSM).PutParameter, func(o *ssm.PutParameterOutput) any {
		return map[string]any{"Version": o.Version, "Tier": o.Tier}
	}),
	// What the conformance suite's cleanup removes (lambda/conformance).
	"DeleteParameter": ssmOp((*awsfake.SSM).DeleteParameter, func(*ssm.DeleteParameterOutput) any { return map[string]any{} }),
	"DescribeParameters": ssmOp((*awsfake.SSM).DescribeParameters, func(o *ssm.DescribeParametersOutput) any {
		ps := []any{}
		for _, p := range o.Parameters {
			ps = append(ps, map[string]any{"Name": p.Name, "ARN": p.ARN, "Type": p.Type, "DataType": p.DataType, "Version": p.Version,
				"Tier": p.Tier, "LastModifiedDate": float64(p.LastModifiedDate.UnixMilli()) / float64(time.Second/time.Millisecond)})
		}
		m := map[string]any{"Parameters": ps}
		if o.NextToken != nil {
			m["NextToken"] = o.NextToken
		}
		return m
	}),
	"GetParameterHistory": ssmOp((*awsfake.SSM).GetParameterHistory, func(o *ssm.GetParameterHistoryOutput) any {
		hs := []any{}
		for _, h := range o.Parameters {
			m := map[string]any{"Name": h.Name, "Type": h.Type, "Value": h.Value, "Version": h.Version, "DataType": h.DataType, "Tier": h.Tier, "Labels": h.Labels}
			if h.LastModifiedDate != nil {
				m["LastModifiedDate"] = float64(h.LastModifiedDate.UnixMilli()) / float64(time.Second/time.Millisecond)
			}
			hs = append(hs, m)
		}
		out := map[string]any{"Parameters": hs}
		if o.NextToken != nil {
			out["NextToken"] = o.NextToken
		}
		return out
	}),
}

// wireParameter is a Parameter as JSON 1.1 sends it: timestamps in epoch seconds.
func wireParameter(p *ssmtypes.Parameter) map[string]any {
	if p == nil {
		return nil
	}
	m := map[string]any{"Name": p.Name, "Type": p.Type, "Value": p.Value, "Version": p.Version, "ARN": p.ARN, "DataType": p.DataType}
	if p.Selector != nil {
		m["Selector"] = p.Selector
	}
	if p.LastModifiedDate != nil {
		m["LastModifiedDate"] = float64(p.LastModifiedDate.UnixMilli()) / float64(time.Second/time.Millisecond)
	}
	return m
}

func (s *Server) serveSSM(w http.ResponseWriter, r *http.Request, action string) {
	w, serve := s.applyFault(w, r, ssmService, action)
	if !serve {
		return
	}
	op, ok := ssmOps[action]
	if !ok {
		s.writeJSONError(w, action, nil, http.StatusBadRequest, "UnknownOperationException", "awssim serves AmazonSSM.GetParameter, GetParameterHistory, GetParameters, PutParameter, DescribeParameters and DeleteParameter only, not "+action)
		return
	}
	cloud, _, err := s.resolve(r)
	if err != nil {
		status, code, msg := authError(ssmService, err)
		s.writeJSONError(w, action, nil, status, code, msg)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	in := op.newInput()
	if err := json.Unmarshal(body, in); err != nil {
		s.writeJSONError(w, action, nil, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	out, err := op.call(r.Context(), cloud, in)
	if err != nil {
		code, msg, server := apiError(err)
		s.writeJSONError(w, action, in, awsfake.HTTPStatus(code, server), code, msg)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err) // strings, numbers and enums always marshal
	}
	s.write(w, action, in, http.StatusOK, "", jsonContentType, b)
}
