package awssim

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// protocol is one of AWS's two Query dialects. EC2's flattens every list
// (Filter.1.Value.1) and renames members (the queryName trait); Auto Scaling's
// (awsQuery) names members as in the model and nests lists (Names.member.1).
// Both answer in XML, EC2's lists as <item>, Auto Scaling's as <member>.
type protocol struct {
	service   string // the SDK's ServiceID, for messages
	version   string // the API version every request carries
	namespace string // the XML namespace of responses
	listItem  string // the XML element of a list entry
	// queryName is a member's name in a request.
	queryName func(owner reflect.Type, f reflect.StructField) string
	// listKey is the key of a list's n-th entry, given the list's key.
	listKey func(key string, n int) string
	// xmlName is a member's element name in a response.
	xmlName func(owner reflect.Type, f reflect.StructField) string
}

// ec2QueryNames are the EC2 request members whose queryName is not their Go
// name, as in the SDK's serializers.go. Keys are "Field" or "Type.Field".
var ec2QueryNames = map[string]string{
	"Filters":             "Filter",
	"Values":              "Value",
	"ImageIds":            "ImageId",
	"Owners":              "Owner",
	"ExecutableUsers":     "ExecutableBy",
	"InstanceIds":         "InstanceId",
	"LaunchTemplateIds":   "LaunchTemplateId",
	"LaunchTemplateNames": "LaunchTemplateName",
	"Versions":            "LaunchTemplateVersion",
	"TagSpecifications":   "TagSpecification",
	"Tags":                "Tag",
	"ResourceTypes":       "ResourceType",
	"ResourceTypeOptions": "ResourceTypeOption",
	"OptionValues":        "OptionValue",
	"BlockDeviceMappings": "BlockDeviceMapping",
	"SecurityGroupIds":    "SecurityGroupId",
	"SecurityGroups":      "SecurityGroup",
	"NetworkInterfaces":   "NetworkInterface",
	"SnapshotIds":         "SnapshotId",
	"OwnerIds":            "Owner",

	"ModifyLaunchTemplateInput.DefaultVersion": "SetDefaultVersion",
	"CreateTagsInput.Resources":                "ResourceId",
	"DeleteTagsInput.Resources":                "ResourceId",
}

// ec2XMLNames are the EC2 response members whose locationName is not their Go
// name in lowerCamel case, as in the SDK's deserializers.go.
var ec2XMLNames = map[string]string{
	"Tags":                   "tagSet",
	"Images":                 "imagesSet",
	"Reservations":           "reservationSet",
	"Instances":              "instancesSet",
	"LaunchTemplateVersions": "launchTemplateVersionSet",
	"ImageReferences":        "imageReferenceSet",
	"DeleteSnapshotResults":  "deleteSnapshotResultSet",
	"SuccessfullyDeletedLaunchTemplateVersions":   "successfullyDeletedLaunchTemplateVersionSet",
	"UnsuccessfullyDeletedLaunchTemplateVersions": "unsuccessfullyDeletedLaunchTemplateVersionSet",
	"Public":               "isPublic",
	"SecurityGroupIds":     "securityGroupIdSet",
	"TagSpecifications":    "tagSpecificationSet",
	"Snapshots":            "snapshotSet",
	"TerminatingInstances": "instancesSet",

	"Image.State":                                      "imageState",
	"Image.OwnerId":                                    "imageOwnerId",
	"Image.BlockDeviceMappings":                        "blockDeviceMapping",
	"Image.ImageWatermarks":                            "imageWatermarkSet",
	"Instance.State":                                   "instanceState",
	"Snapshot.State":                                   "status",
	"Instance.BlockDeviceMappings":                     "blockDeviceMapping",
	"Instance.SecurityGroups":                          "groupSet",
	"Instance.PublicDnsName":                           "dnsName",
	"Instance.PublicIpAddress":                         "ipAddress",
	"Instance.StateTransitionReason":                   "reason",
	"Instance.NetworkInterfaces":                       "networkInterfaceSet",
	"Instance.Licenses":                                "licenseSet",
	"Reservation.Groups":                               "groupSet",
	"ResponseLaunchTemplateData.SecurityGroups":        "securityGroupSet",
	"ResponseLaunchTemplateData.BlockDeviceMappings":   "blockDeviceMappingSet",
	"ResponseLaunchTemplateData.NetworkInterfaces":     "networkInterfaceSet",
	"ResponseLaunchTemplateData.LicenseSpecifications": "licenseSet",
	"EbsBlockDevice.AvailabilityZoneId":                "AvailabilityZoneId",
	"EbsBlockDevice.EbsCardIndex":                      "EbsCardIndex",
	"EbsBlockDevice.VolumeInitializationRate":          "VolumeInitializationRate",
}

func lookupName(table map[string]string, owner reflect.Type, f reflect.StructField) (string, bool) {
	if n, ok := table[owner.Name()+"."+f.Name]; ok {
		return n, true
	}
	n, ok := table[f.Name]
	return n, ok
}

var ec2Protocol = &protocol{
	service:   "EC2",
	version:   "2016-11-15",
	namespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
	listItem:  "item",
	queryName: func(owner reflect.Type, f reflect.StructField) string {
		if n, ok := lookupName(ec2QueryNames, owner, f); ok {
			return n
		}
		return f.Name
	},
	listKey: func(key string, n int) string { return key + "." + strconv.Itoa(n) },
	xmlName: func(owner reflect.Type, f reflect.StructField) string {
		if n, ok := lookupName(ec2XMLNames, owner, f); ok {
			return n
		}
		return strings.ToLower(f.Name[:1]) + f.Name[1:]
	},
}

var autoScalingProtocol = &protocol{
	service:   "Auto Scaling",
	version:   "2011-01-01",
	namespace: "http://autoscaling.amazonaws.com/doc/2011-01-01/",
	listItem:  "member",
	queryName: func(_ reflect.Type, f reflect.StructField) string { return f.Name },
	listKey:   func(key string, n int) string { return key + ".member." + strconv.Itoa(n) },
	xmlName:   func(_ reflect.Type, f reflect.StructField) string { return f.Name },
}

var timeType = reflect.TypeOf(time.Time{})

// formDecoder fills an SDK input struct from a Query request's form.
type formDecoder struct {
	p    *protocol
	form url.Values
	keys []string // sorted
	used map[string]bool
}

// decodeForm fills in (a pointer to an SDK input struct) from form. A key that
// names no member of the input is an error, as AWS's UnknownParameter.
func (p *protocol) decodeForm(form url.Values, in any) error {
	d := &formDecoder{p: p, form: form, used: map[string]bool{"Action": true, "Version": true}}
	for k := range form {
		d.keys = append(d.keys, k)
	}
	sort.Strings(d.keys)
	if err := d.decodeStruct("", reflect.ValueOf(in).Elem()); err != nil {
		return err
	}
	for _, k := range d.keys {
		if !d.used[k] {
			return fmt.Errorf("the parameter %s is not recognized", k)
		}
	}
	return nil
}

// has reports whether the form holds key itself or anything under key + ".".
func (d *formDecoder) has(key string) bool {
	i := sort.SearchStrings(d.keys, key)
	for ; i < len(d.keys); i++ {
		k := d.keys[i]
		if k == key || strings.HasPrefix(k, key+".") {
			return true
		}
		if !strings.HasPrefix(k, key) {
			return false
		}
	}
	return false
}

func (d *formDecoder) decodeStruct(prefix string, v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "ResultMetadata" {
			continue
		}
		key := prefix + d.p.queryName(t, f)
		if !d.has(key) {
			continue
		}
		if err := d.decodeValue(key, v.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

func (d *formDecoder) decodeValue(key string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if err := d.decodeValue(key, nv.Elem()); err != nil {
			return err
		}
		v.Set(nv)
		return nil
	case reflect.Struct:
		if v.Type() == timeType {
			return d.scalar(key, v)
		}
		return d.decodeStruct(key+".", v)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // a blob
			return d.scalar(key, v)
		}
		s := reflect.MakeSlice(v.Type(), 0, 0)
		if _, ok := d.form[key]; ok { // an empty list is sent as "Key="
			d.used[key] = true
		}
		for n := 1; d.has(d.p.listKey(key, n)); n++ {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.decodeValue(d.p.listKey(key, n), e); err != nil {
				return err
			}
			s = reflect.Append(s, e)
		}
		v.Set(s)
		return nil
	}
	return d.scalar(key, v)
}

func (d *formDecoder) scalar(key string, v reflect.Value) error {
	vals, ok := d.form[key]
	if !ok {
		return fmt.Errorf("the parameter %s is not recognized", key+".*")
	}
	d.used[key] = true
	s := vals[0]
	bad := func(err error) error { return fmt.Errorf("invalid value %q for parameter %s: %v", s, key, err) }
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad(err)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return bad(err)
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return bad(err)
		}
		v.SetFloat(n)
	case reflect.Slice:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad(err)
		}
		v.SetBytes(b)
	case reflect.Struct:
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return bad(err)
		}
		v.Set(reflect.ValueOf(tm))
	default:
		return fmt.Errorf("parameter %s: awssim cannot decode a %s", key, v.Type())
	}
	return nil
}
