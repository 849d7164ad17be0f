// Command placeholder stands in for the function in tests of the build and the
// construct while ../../lambda has no main package.
package main

func main() {}
