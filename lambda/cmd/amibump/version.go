package main

import (
	"runtime"
	"runtime/debug"
)

// version is the release this binary is, stamped by make cli and make release
// (-ldflags "-X main.version=v1.2.3"). Unstamped, it is the module version go
// install recorded (go install …/amibump@v1.2.3), else "devel".
var version = ""

// versionLine is what amibump --version prints.
func versionLine() string {
	v := version
	if v == "" {
		v = "devel"
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
	}
	return "amibump " + v + " (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
