// Command placeholder is a tiny main package for the tests of BuildFunction,
// which build it for both architectures without compiling the whole function.
package main

func main() {}
