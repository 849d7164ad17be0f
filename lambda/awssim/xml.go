package awssim

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"reflect"
	"strconv"
	"time"
)

// xmlEncoder writes SDK output structs as a Query service's XML.
type xmlEncoder struct {
	p   *protocol
	buf bytes.Buffer
}

func (e *xmlEncoder) open(name string)  { e.buf.WriteString("<" + name + ">") }
func (e *xmlEncoder) close(name string) { e.buf.WriteString("</" + name + ">") }

func (e *xmlEncoder) text(s string) {
	if err := xml.EscapeText(&e.buf, []byte(s)); err != nil {
		panic(err) // writing to a bytes.Buffer does not fail
	}
}

// members writes the set members of a struct, each as an element.
func (e *xmlEncoder) members(v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "ResultMetadata" {
			continue
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			if fv.IsNil() {
				continue
			}
		default:
			if fv.IsZero() {
				continue
			}
		}
		e.element(e.p.xmlName(t, f), fv)
	}
}

func (e *xmlEncoder) element(name string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		e.element(name, v.Elem())
		return
	case reflect.Map, reflect.Interface:
		return // no member amibump reads is a map or a union
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			e.open(name)
			e.text(base64.StdEncoding.EncodeToString(v.Bytes()))
			e.close(name)
			return
		}
		e.open(name)
		for i := range v.Len() {
			e.element(e.p.listItem, v.Index(i))
		}
		e.close(name)
		return
	case reflect.Struct:
		e.open(name)
		if v.Type() == timeType {
			// EC2 and Auto Scaling send ISO 8601 with milliseconds, in UTC.
			e.text(v.Interface().(time.Time).UTC().Format("2006-01-02T15:04:05.000Z"))
		} else {
			e.members(v)
		}
		e.close(name)
		return
	}
	e.open(name)
	switch v.Kind() {
	case reflect.String:
		e.text(v.String())
	case reflect.Bool:
		e.text(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.text(strconv.FormatInt(v.Int(), 10))
	case reflect.Float32, reflect.Float64:
		e.text(strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits()))
	}
	e.close(name)
}

// response is the XML document answering a successful request.
func (p *protocol) response(action, requestID string, out any) []byte {
	e := &xmlEncoder{p: p}
	e.buf.WriteString(xml.Header)
	e.buf.WriteString(`<` + action + `Response xmlns="` + p.namespace + `">`)
	v := reflect.ValueOf(out)
	if p == ec2Protocol {
		e.open("requestId")
		e.text(requestID)
		e.close("requestId")
		if v.IsValid() && !v.IsNil() {
			e.members(v.Elem())
		}
	} else {
		e.open(action + "Result")
		if v.IsValid() && !v.IsNil() {
			e.members(v.Elem())
		}
		e.close(action + "Result")
		e.buf.WriteString("<ResponseMetadata><RequestId>")
		e.text(requestID)
		e.buf.WriteString("</RequestId></ResponseMetadata>")
	}
	e.buf.WriteString(`</` + action + `Response>`)
	return e.buf.Bytes()
}

// errorResponse is the XML document of an error: EC2's <Response><Errors> or
// Auto Scaling's <ErrorResponse>.
func (p *protocol) errorResponse(code, message, requestID string, server bool) []byte {
	e := &xmlEncoder{p: p}
	e.buf.WriteString(xml.Header)
	if p == ec2Protocol {
		e.buf.WriteString("<Response><Errors><Error><Code>")
		e.text(code)
		e.buf.WriteString("</Code><Message>")
		e.text(message)
		e.buf.WriteString("</Message></Error></Errors><RequestID>")
		e.text(requestID)
		e.buf.WriteString("</RequestID></Response>")
		return e.buf.Bytes()
	}
	typ := "Sender"
	if server {
		typ = "Receiver"
	}
	e.buf.WriteString(`<ErrorResponse xmlns="` + p.namespace + `"><Error><Type>` + typ + `</Type><Code>`)
	e.text(code)
	e.buf.WriteString("</Code><Message>")
	e.text(message)
	e.buf.WriteString("</Message></Error><RequestId>")
	e.text(requestID)
	e.buf.WriteString("</RequestId></ErrorResponse>")
	return e.buf.Bytes()
}
