package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devissuer"
)

// securityStory shows the gateway guarding the example: no token is 401, a
// token without the scope is 403, a SANDBOX token reaches the sandbox
// backend, the open inventory needs none, and a throttled resource answers
// 429 with its RateLimit headers.
func securityStory(ctx context.Context, c *http.Client, gw string, is *devissuer.Issuer, token string, kv *clientv3.Client, sandbox *backend) error {
	step("Who may call: the example requires OAuth2 (micro-gw 3.x's default); writes need write:pets")
	r, err := call(c, "GET", gw+resource, "")
	if err != nil {
		return err
	}
	if err := expect(r, 401, "no token"); err != nil {
		return err
	}
	if r, err = call(c, "DELETE", gw+"/petstore/v1/pet/1", token); err != nil {
		return err
	}
	if err := expect(r, 403, "DELETE with a read:pets token"); err != nil {
		return err
	}
	if r, err = call(c, "GET", gw+"/petstore/v1/store/inventory", ""); err != nil {
		return err
	}
	if err := expect(r, 200, "GET /store/inventory, no token (x-wso2-disable-security: true)"); err != nil {
		return err
	}

	step("etcdctl put petstore-sandbox %s/v2, then a SANDBOX token", sandbox.url)
	if _, err := kv.Put(ctx, "petstore-sandbox", sandbox.url+"/v2"); err != nil {
		return err
	}
	sbx, err := is.Mint(devissuer.Token{Scopes: []string{"read:pets"}, Sandbox: true})
	if err != nil {
		return err
	}
	get := func(c *http.Client, u string) (string, error) { return getAs(c, u, sbx) }
	took, err := switchTime(ctx, c, gw+resource, sandbox.name, func(context.Context) error { return nil }, get)
	if err != nil {
		return err
	}
	prod, err := getAs(c, gw+resource, token)
	if err != nil {
		return err
	}
	if prod == sandbox.name {
		return fmt.Errorf("a PRODUCTION token reached the sandbox backend")
	}
	fmt.Printf("    SANDBOX token served by %s (%.1f ms after the put); the PRODUCTION token still by %s\n", sandbox.name, float64(took.Microseconds())/1000, prod)

	step("Throttling: a token whose application.tier is 10PerMin (policies.yaml) calls GET /pet/findByStatus (x-wso2-throttling-tier: 10kPerMin)")
	limited, err := is.Mint(devissuer.Token{Scopes: []string{"read:pets"}, App: "demo-app", AppTier: "10PerMin"})
	if err != nil {
		return err
	}
	for i := 1; i <= 11; i++ {
		if r, err = call(c, "GET", gw+"/petstore/v1/pet/findByStatus?status=available", limited); err != nil {
			return err
		}
		if i < 3 || i > 9 {
			fmt.Printf("    request %2d: %d  RateLimit-Limit=%s RateLimit-Remaining=%s RateLimit-Reset=%s",
				i, r.status, r.header.Get("RateLimit-Limit"), r.header.Get("RateLimit-Remaining"), r.header.Get("RateLimit-Reset"))
			if ra := r.header.Get("Retry-After"); ra != "" {
				fmt.Printf(" Retry-After=%s", ra)
			}
			fmt.Println()
		}
	}
	if err := expect(r, 429, "the 11th request in a minute"); err != nil {
		return err
	}
	return nil
}

// answer is a response's status, headers and body.
type answer struct {
	status int
	header http.Header
	body   string
}

func call(c *http.Client, method, u, token string) (answer, error) {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return answer{resp.StatusCode, resp.Header, strings.TrimSpace(string(b))}, err
}

// expect prints what answered and fails unless it is status.
func expect(r answer, status int, what string) error {
	fmt.Printf("    %s: %d %s\n", what, r.status, r.body)
	if w := r.header.Get("WWW-Authenticate"); w != "" {
		fmt.Printf("      WWW-Authenticate: %s\n", w)
	}
	if r.status != status {
		return fmt.Errorf("%s: got %d, want %d", what, r.status, status)
	}
	return nil
}
