package awsfake

import (
	"reflect"
	"testing"
)

// TestCloudReachesNoOtherCloud pins the World's locking rule by
// construction: nothing a Cloud holds leads to another Cloud or to the World,
// so no operation of a Cloud, holding its lock, can take a second Cloud's.
func TestCloudReachesNoOtherCloud(t *testing.T) {
	forbidden := map[reflect.Type]bool{reflect.TypeFor[Cloud](): true, reflect.TypeFor[World](): true}
	seen := map[reflect.Type]bool{}
	var walk func(path string, ty reflect.Type)
	walk = func(path string, ty reflect.Type) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			if forbidden[ty.Elem()] {
				t.Errorf("%s (%s) leads to a %s", path, ty, ty.Elem().Name())
			}
			walk(path, ty.Elem())
		case reflect.Map:
			walk(path+"[key]", ty.Key())
			walk(path, ty.Elem())
		case reflect.Struct:
			for i := range ty.NumField() {
				f := ty.Field(i)
				walk(path+"."+f.Name, f.Type)
			}
		case reflect.Interface, reflect.Func:
			// A Clock or an option's function: the World never hands a
			// Cloud one that closes over a Cloud (NewWorld, World.cloud).
		}
	}
	cloud := reflect.TypeFor[Cloud]()
	for i := range cloud.NumField() {
		f := cloud.Field(i)
		walk("Cloud."+f.Name, f.Type)
	}
	if len(seen) < 10 {
		t.Fatalf("walked only %d types: the walk is broken", len(seen))
	}
}
