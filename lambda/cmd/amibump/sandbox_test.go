package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// A Jenkinsfile from SCM runs in the script-security plugin's Groovy sandbox:
// every method call the script makes must be on the plugin's whitelist and
// off its blacklist, or the build stops with a RejectedAccessException until
// an administrator approves the signature. Pipeline steps and Declarative
// directives are not method calls in that sense: the sandbox lets them
// through. This file checks the README's Groovy the way the sandbox would,
// with the plugin's lists as they are committed under testdata/script-security.

// sandboxSteps are the steps, directives and binding symbols the snippets may
// use, with the plugin that provides them.
var sandboxSteps = map[string]string{
	"pipeline": "pipeline-model-definition", "agent": "pipeline-model-definition",
	"environment": "pipeline-model-definition", "stages": "pipeline-model-definition",
	"stage": "pipeline-model-definition", "steps": "pipeline-model-definition",
	"post": "pipeline-model-definition", "success": "pipeline-model-definition",
	"failure": "pipeline-model-definition", "always": "pipeline-model-definition",
	"script": "pipeline-model-definition",
	// A parameterized job: its parameters, and a stage that runs only when one is ticked.
	"parameters": "pipeline-model-definition", "when": "pipeline-model-definition",
	"expression": "pipeline-model-definition", "booleanParam": "Jenkins core (BooleanParameterDefinition; string( in parameters is StringParameterDefinition)",
	// The matrix directive (Declarative Pipeline 1.5.0 and later) and its parts.
	"matrix": "pipeline-model-definition", "axes": "pipeline-model-definition",
	"axis": "pipeline-model-definition", "name": "pipeline-model-definition",
	"values": "pipeline-model-definition",
	"sh":     "workflow-durable-task-step", "writeFile": "workflow-basic-steps",
	"readFile": "workflow-basic-steps", "echo": "workflow-basic-steps",
	"error": "workflow-basic-steps", "catchError": "workflow-basic-steps",
	"withCredentials": "credentials-binding", "string": "credentials-binding",
	"aws":       "aws-credentials (the AmazonWebServicesCredentialsBinding symbol)",
	"writeJSON": "pipeline-utility-steps", "readJSON": "pipeline-utility-steps",
}

// groovyOverloads are the overloads of the static methods the snippets may
// call, as the Groovy runtime chooses between them (Groovy's JsonOutput: there
// is no List overload, so a list goes to toJson(Object)).
var groovyOverloads = map[string][]string{
	"groovy.json.JsonOutput toJson": {"java.lang.Boolean", "java.lang.Number", "java.lang.Character", "java.lang.String",
		"java.util.Date", "java.util.Calendar", "java.util.UUID", "java.net.URL", "groovy.lang.Closure", "groovy.util.Expando",
		"java.util.Map", "java.lang.Object"},
	"groovy.json.JsonOutput prettyPrint": {"java.lang.String"},
}

// groovyTypes are the classes of the values a snippet passes, most specific
// first, as the runtime walks them to pick an overload.
var groovyTypes = map[string][]string{
	"map":    {"java.util.LinkedHashMap", "java.util.HashMap", "java.util.Map", "java.lang.Object"},
	"list":   {"java.util.ArrayList", "java.util.List", "java.util.Collection", "java.lang.Iterable", "java.lang.Object"},
	"string": {"java.lang.String", "java.lang.CharSequence", "java.lang.Object"},
}

// signatureList is one of the plugin's lists.
type signatureList map[string]bool

func readSignatures(t *testing.T, name string) signatureList {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "script-security", name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	list := signatureList{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			list[line] = true
		}
	}
	return list
}

// groovyToken is a token of Groovy source: an identifier, a string literal
// (kind "string"), or one punctuation character.
type groovyToken struct {
	text, kind string
	line       int
}

// tokenizeGroovy splits Groovy into tokens, dropping comments. The text of a
// string is kept; a double-quoted string whose ${…} holds more than a name or
// a property is refused, since the calls in it would go unchecked.
func tokenizeGroovy(src string) ([]groovyToken, error) {
	var toks []groovyToken
	line, depth := 1, 0 // depth: open ( and [, inside which a newline ends nothing
	for i := 0; i < len(src); {
		c := src[i]
		switch c {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		}
		switch {
		case c == '\n':
			if depth == 0 {
				toks = append(toks, groovyToken{"\n", "newline", line})
			}
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\'' || c == '"':
			quote := string(c)
			if strings.HasPrefix(src[i:], strings.Repeat(quote, 3)) {
				quote = strings.Repeat(quote, 3)
			}
			end := strings.Index(src[i+len(quote):], quote)
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated string", line)
			}
			body := src[i+len(quote) : i+len(quote)+end]
			if c == '"' {
				for _, m := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllStringSubmatch(body, -1) {
					if !regexp.MustCompile(`^\s*[A-Za-z_][\w.]*\s*$`).MatchString(m[1]) {
						return nil, fmt.Errorf("line %d: ${%s} in a string: keep calls out of interpolations so that they are checked", line, m[1])
					}
				}
			}
			toks = append(toks, groovyToken{body, "string", line})
			line += strings.Count(body, "\n")
			i += 2*len(quote) + end
		case c == '$' || c == '_' || unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(src) && (src[j] == '_' || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			toks = append(toks, groovyToken{src[i:j], "ident", line})
			i = j
		default:
			toks = append(toks, groovyToken{string(c), "punct", line})
			i++
		}
	}
	return toks, nil
}

// sandboxCheck returns, for each call in src the sandbox would refuse or this
// check cannot type, a message naming it. Steps must be known; static calls
// are resolved to the overload the runtime picks and looked up in the lists;
// calls on objects and constructors are refused outright (the snippets need
// none, and a signature this check cannot type is one nobody checked).
func sandboxCheck(src string, whitelist, blacklist signatureList) []string {
	toks, err := tokenizeGroovy(src)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	vars := map[string]string{} // local variable → the kind of value assigned
	at := func(i int) groovyToken {
		if i < 0 || i >= len(toks) {
			return groovyToken{}
		}
		return toks[i]
	}
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		if tok.kind != "ident" || at(i-1).text == "." {
			continue
		}
		next := at(i + 1)
		switch {
		case tok.text == "def" && at(i+2).text == "=":
			vars[at(i+1).text] = valueKind(toks[i+3:], vars)
		case tok.text == "new":
			problems = append(problems, fmt.Sprintf("line %d: new %s: constructors are not checked here; use a step or a whitelisted static method", tok.line, joinChain(toks[i+1:])))
			for i+2 < len(toks) && toks[i+2].text == "." {
				i += 2 // past the class name
			}
			i++
		case next.text == ".":
			if p := checkQualifiedCall(toks, i, vars, whitelist, blacklist); p != "" {
				problems = append(problems, p)
			}
		case next.text == ":" || next.text == "=" || tok.text == "def":
			// a map key or an assignment
		case next.text == "(" || next.text == "{" || next.kind == "string" || next.kind == "ident":
			if _, ok := sandboxSteps[tok.text]; !ok {
				problems = append(problems, fmt.Sprintf("line %d: %s is not a step this test knows (add it, with its plugin, to sandboxSteps if it is one)", tok.line, tok.text))
			}
		}
	}
	return problems
}

// checkQualifiedCall checks the chain a.b.C.m( that starts at toks[i]:
// a static call on a fully qualified class. A chain that ends without a call
// (env.BUILD_TAG) is a property read and passes.
func checkQualifiedCall(toks []groovyToken, i int, vars map[string]string, whitelist, blacklist signatureList) string {
	var parts []string
	j := i
	for ; j < len(toks) && toks[j].kind == "ident"; j += 2 {
		parts = append(parts, toks[j].text)
		if j+1 >= len(toks) || toks[j+1].text != "." {
			break
		}
	}
	if j+1 >= len(toks) || toks[j+1].text != "(" {
		return "" // a property read: env.BUILD_TAG
	}
	line := toks[i].line
	method := parts[len(parts)-1]
	class := strings.Join(parts[:len(parts)-1], ".")
	if !isClassName(parts[:len(parts)-1], vars) {
		return fmt.Sprintf("line %d: %s.%s(…) is a call on an object; its signature cannot be checked here, so the snippets make none", line, class, method)
	}
	kind := valueKind(toks[j+2:], vars)
	overloads, ok := groovyOverloads[class+" "+method]
	if !ok {
		return fmt.Sprintf("line %d: %s.%s: this test does not know its overloads (add them to groovyOverloads)", line, class, method)
	}
	types, ok := groovyTypes[kind]
	if !ok {
		return fmt.Sprintf("line %d: %s.%s: cannot tell the type of its argument; pass a literal or a variable assigned one", line, class, method)
	}
	for _, typ := range types {
		for _, o := range overloads {
			if o != typ {
				continue
			}
			sig := fmt.Sprintf("staticMethod %s %s %s", class, method, typ)
			switch {
			case blacklist[sig]:
				return fmt.Sprintf("line %d: %s is on the sandbox's blacklist", line, sig)
			case !whitelist[sig]:
				return fmt.Sprintf("line %d: a %s argument makes the call %s, which the sandbox refuses (not on its whitelist)", line, kind, sig)
			}
			return ""
		}
	}
	return fmt.Sprintf("line %d: %s.%s has no overload for a %s", line, class, method, kind)
}

// isClassName reports whether parts name a class by its full name
// (groovy.json.JsonOutput), rather than an object (env.BUILD_TAG, a variable).
func isClassName(parts []string, vars map[string]string) bool {
	if len(parts) < 2 || vars[parts[0]] != "" || parts[0] == "env" || parts[0] == "params" || parts[0] == "currentBuild" {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if !unicode.IsLower(rune(p[0])) {
			return false
		}
	}
	return regexp.MustCompile(`^[A-Z][a-z]\w*$`).MatchString(parts[len(parts)-1])
}

// valueKind is the kind of the value an expression starting at toks[0]
// yields: "map" or "list" for a literal, "string" for a string literal or a
// toJson call, a variable's kind, or "" when it cannot tell.
func valueKind(toks []groovyToken, vars map[string]string) string {
	if len(toks) == 0 {
		return ""
	}
	switch first := toks[0]; {
	case first.kind == "string":
		return "string"
	case first.text == "[":
		depth := 0
	scan:
		for _, t := range toks {
			switch t.text {
			case "[", "(", "{":
				depth++
			case "]", ")", "}":
				depth--
			case ":":
				if depth == 1 {
					return "map"
				}
			}
			if depth == 0 {
				break scan
			}
		}
		return "list"
	case first.kind == "ident" && len(toks) > 1 && toks[1].text == ".":
		if chain := joinChain(toks); strings.HasSuffix(chain, "JsonOutput.toJson") || strings.HasSuffix(chain, "JsonOutput.prettyPrint") {
			return "string"
		}
	case first.kind == "ident":
		return vars[first.text]
	}
	return ""
}

// joinChain returns the dotted name at the start of toks: "groovy.json.JsonOutput.toJson".
func joinChain(toks []groovyToken) string {
	var parts []string
	for j := 0; j < len(toks) && toks[j].kind == "ident"; j += 2 {
		parts = append(parts, toks[j].text)
		if j+1 >= len(toks) || toks[j+1].text != "." {
			break
		}
	}
	return strings.Join(parts, ".")
}

// groovyBlocks returns every ```groovy block of a document.
func groovyBlocks(doc string) []string {
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```groovy\\n(.*?)```").FindAllStringSubmatch(doc, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestReadmeGroovySandbox: every Groovy snippet in the README runs in
// Jenkins' sandbox without an administrator's approval.
func TestReadmeGroovySandbox(t *testing.T) {
	whitelist, blacklist := readSignatures(t, "generic-whitelist"), readSignatures(t, "blacklist")
	for path, doc := range readmes(t) {
		blocks := groovyBlocks(doc)
		for _, name := range []string{"jenkins-emit", "put-events-jenkins", "jenkins-rollback"} {
			if !slices.Contains(blocks, block(t, doc, name)) {
				t.Errorf("%s: the example marked <!-- tested: %s --> is not a ```groovy block, so this test would not check it", path, name)
			}
		}
		for i, b := range blocks {
			for _, p := range sandboxCheck(b, whitelist, blacklist) {
				t.Errorf("%s, Groovy block %d: %s\n%s", filepath.Base(path), i+1, p, b)
			}
		}
	}
}

// TestSandboxCheck: the check refuses what the sandbox refuses, including the
// list passed to JsonOutput.toJson that the README once had.
func TestSandboxCheck(t *testing.T) {
	whitelist, blacklist := readSignatures(t, "generic-whitelist"), readSignatures(t, "blacklist")
	tests := []struct {
		name, src, want string // want: a part of the one problem, "" for none
	}{
		{"a map literal takes the Map overload", `def d = groovy.json.JsonOutput.toJson([app: 'shop', build: [id: env.BUILD_TAG]])`, ""},
		{"a list literal falls to toJson(Object)", `writeFile file: 'x', text: groovy.json.JsonOutput.toJson([[Source: 'ci.jenkins']])`,
			"staticMethod groovy.json.JsonOutput toJson java.lang.Object"},
		{"a variable holding a list too", "def entries = [[a: 1]]\ndef s = groovy.json.JsonOutput.toJson(entries)",
			"staticMethod groovy.json.JsonOutput toJson java.lang.Object"},
		{"a variable holding a map", "def m = [a: 'b']\ndef s = groovy.json.JsonOutput.toJson(m)", ""},
		{"a static method this test does not know", `def e = java.lang.System.getenv('HOME')`, "java.lang.System.getenv: this test does not know its overloads"},
		{"a call on an object", `def s = env.BUILD_TAG.take(128)`, "call on an object"},
		{"a constructor", `def f = new java.io.File('x')`, "constructors are not checked"},
		{"an unknown step", `httpRequest url: 'https://example.com'`, "httpRequest is not a step"},
		{"a call hidden in an interpolation", `sh "echo ${groovy.json.JsonOutput.toJson([a: 1])}"`, "keep calls out of interpolations"},
		{"a stage run when a parameter is ticked", "stage('Dry run') {\n  when { expression { params.DRY_RUN } }\n  steps {\n    sh 'amibump rollback --app \"$APP\" --dry-run --local'\n  }\n}", ""},
		{"a call in the when expression", "when { expression { params.DRY_RUN.toBoolean() } }", "call on an object"},
		{"parameters pass", "parameters {\n  string(name: 'APP', description: 'amibump:app')\n  booleanParam(name: 'DRY_RUN', defaultValue: true)\n}", ""},
		{"steps and properties pass", "post {\n  success {\n    withCredentials([aws(credentialsId: 'c', accessKeyVariable: 'AWS_ACCESS_KEY_ID')]) {\n      sh 'amibump emit'\n    }\n  }\n}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sandboxCheck(tt.src, whitelist, blacklist)
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("problems %q, want none", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Errorf("problems %q, want one saying %q", got, tt.want)
			}
		})
	}
	// The blacklist wins over the whitelist.
	whitelisted := signatureList{"staticMethod groovy.json.JsonOutput toJson java.util.Map": true}
	if got := sandboxCheck(`def s = groovy.json.JsonOutput.toJson([a: 1])`, whitelisted, whitelisted); len(got) != 1 || !strings.Contains(got[0], "blacklist") {
		t.Errorf("a blacklisted signature: problems %q, want one naming the blacklist", got)
	}
}
