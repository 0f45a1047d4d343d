// SPDX-License-Identifier: LGPL-2.1-or-later

// varlink-go-client talks to a Varlink service with the Go library of the
// varlink project (as Debian packages it), a client that shares no code with
// libvfio. It calls org.varlink.service.GetInfo, fetches the description of
// every interface listed there and parses it with the library's IDL parser,
// then optionally calls one method and prints its reply. Any error makes it
// exit 1 with a message on stderr.
//
// Usage: varlink-go-client unix:PATH [METHOD [JSON-PARAMETERS]]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/varlink/go/varlink"
	"github.com/varlink/go/varlink/idl"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "varlink-go-client: "+format+"\n", args...)
	os.Exit(1)
}

var interfaceLine = regexp.MustCompile(`(?m)^interface[ \t]+(\S+)`)

// parse parses an interface description with the library's parser.
//
// Interface names may hold upper-case letters ("io.libvfio.Manager") since
// the specification allowed them in 2021, but the library in Debian 12
// (0.4.0) predates its fix (varlink/go#28, #29) and stops at the first
// upper-case letter of the name. So when a description does not parse as it
// is, and its interface line names exactly the interface asked for, it is
// parsed again with only that name lower-cased: everything else in it still
// goes through the third-party parser unchanged. It returns the name the
// parsed description must carry.
func parse(name string, description string) (*idl.IDL, string, error) {
	parsed, err := idl.New(description)
	if err == nil || strings.ToLower(name) == name {
		return parsed, name, err
	}
	if line := interfaceLine.FindStringSubmatch(description); line == nil || line[1] != name {
		return nil, name, err
	}
	lowered := interfaceLine.ReplaceAllStringFunc(description, strings.ToLower)
	if parsed, retry := idl.New(lowered); retry == nil {
		fmt.Printf("note: %q parses only with its name lower-cased (%v)\n", name, err)
		return parsed, strings.ToLower(name), nil
	}
	return nil, name, err
}

// checkInterfaces fetches and parses the description of every interface.
func checkInterfaces(ctx context.Context, c *varlink.Connection, interfaces []string) {
	for _, name := range interfaces {
		description, err := c.GetInterfaceDescription(ctx, name)
		if err != nil {
			fail("GetInterfaceDescription(%q): %v", name, err)
		}
		parsed, expected, err := parse(name, description)
		if err != nil {
			fail("the description of %q does not parse: %v", name, err)
		}
		if parsed.Name != expected {
			fail("GetInterfaceDescription(%q) described %q", name, parsed.Name)
		}
		fmt.Printf("interface %s: %d methods, %d types, %d errors\n", name,
			len(parsed.Methods), len(parsed.Aliases), len(parsed.Errors))
	}
}

// call calls method with parameters (a JSON object) and prints its reply.
func call(ctx context.Context, c *varlink.Connection, method string, parameters string) {
	var in map[string]interface{}
	if err := json.Unmarshal([]byte(parameters), &in); err != nil || in == nil {
		fail("the parameters of %s are not a JSON object: %q", method, parameters)
	}
	var out json.RawMessage
	if err := c.Call(ctx, method, in, &out); err != nil {
		if e, ok := err.(*varlink.Error); ok && e.Parameters != nil {
			if raw, ok := e.Parameters.(*json.RawMessage); ok && raw != nil {
				fail("%s failed: %s %s", method, e.Name, string(*raw))
			}
		}
		// The library turns org.varlink.service errors into structs of their parameters.
		parameters, _ := json.Marshal(err)
		fail("%s failed: %v %s", method, err, parameters)
	}
	if out == nil {
		fail("%s replied without parameters", method)
	}
	fmt.Printf("reply %s\n", string(out))
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 4 {
		fmt.Fprintln(os.Stderr, "Usage: varlink-go-client unix:PATH [METHOD [JSON-PARAMETERS]]")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c, err := varlink.NewConnection(ctx, os.Args[1])
	if err != nil {
		fail("cannot connect to %s: %v", os.Args[1], err)
	}
	defer c.Close()

	var vendor, product, version, url string
	var interfaces []string
	if err := c.GetInfo(ctx, &vendor, &product, &version, &url, &interfaces); err != nil {
		fail("GetInfo: %v", err)
	}
	fmt.Printf("vendor %s\nproduct %s\nversion %s\nurl %s\n", vendor, product, version, url)
	if len(interfaces) == 0 {
		fail("GetInfo lists no interfaces")
	}
	checkInterfaces(ctx, c, interfaces)

	if len(os.Args) >= 3 {
		parameters := "{}"
		if len(os.Args) == 4 {
			parameters = os.Args[3]
		}
		call(ctx, c, os.Args[2], parameters)
	}
}
