package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mspauthz/mspauthz/internal/app"
)

// restClient calls a running mspauthz over its REST API, as the commands for
// people at a terminal and for scripts do.
type restClient struct {
	url     string
	token   string
	timeout time.Duration
}

// registerAddressFlags declares --url and --timeout; timeout is how long
// the command waits for the service by default.
func (c *restClient) registerAddressFlags(fs *pflag.FlagSet, timeout time.Duration) {
	fs.StringVar(&c.url, "url", "http://"+app.DefaultHTTPAddr, "the mspauthz REST address")
	fs.DurationVar(&c.timeout, "timeout", timeout, "how long to wait for the service")
}

// registerFlags declares --url, --timeout and --token.
func (c *restClient) registerFlags(fs *pflag.FlagSet, timeout time.Duration) {
	c.registerAddressFlags(fs, timeout)
	fs.StringVar(&c.token, "token", "", "bearer token (default $MSPAUTHZ_TOKEN, else $MSPAUTHZ_ADMIN_TOKEN)")
}

// context bounds the command's calls by --timeout.
func (c *restClient) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), c.timeout)
}

// endpoint is the URL of path (already escaped) with its query.
func (c *restClient) endpoint(path string, query url.Values) string {
	u := strings.TrimRight(c.url, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// call sends one request, with body as its JSON unless nil, and returns the
// answer's body on 200; otherwise an error with the HTTP status and the
// service's message.
func (c *restClient) call(ctx context.Context, method, path string, query url.Values, body proto.Message) ([]byte, error) {
	var r io.Reader
	if body != nil {
		raw, err := protojson.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, query), r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token := cmp.Or(c.token, os.Getenv("MSPAUTHZ_ADMIN_TOKEN")); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return answer, nil
	}
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &st) != nil || st.Message == "" {
		st.Message = string(bytes.TrimSpace(answer))
	}
	return nil, errors.New(resp.Status + ": " + st.Message)
}

// ask calls the API and decodes its answer into out, ignoring fields this
// build does not know (a newer service may add some).
func (c *restClient) ask(ctx context.Context, method, path string, query url.Values, body, out proto.Message) error {
	raw, err := c.call(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	return decode(raw, out)
}

// list reads every page of a listing into all: while an answer names a
// nextPageToken, the next page is asked for with it and merged in (its
// entries appended).
func (c *restClient) list(ctx context.Context, path string, query url.Values, all proto.Message) error {
	query = maps.Clone(query)
	for {
		raw, err := c.call(ctx, http.MethodGet, path, query, nil)
		if err != nil {
			return err
		}
		page := all.ProtoReflect().New().Interface()
		if err := decode(raw, page); err != nil {
			return err
		}
		proto.Merge(all, page)
		var next struct {
			NextPageToken string `json:"nextPageToken"`
		}
		if err := json.Unmarshal(raw, &next); err != nil || next.NextPageToken == "" {
			return err
		}
		if query == nil {
			query = url.Values{}
		}
		query.Set("pageToken", next.NextPageToken)
	}
}

func decode(raw []byte, out proto.Message) error {
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, out); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	return nil
}

// printJSON writes m as the API writes it (every field, lowerCamelCase),
// indented.
func printJSON(w io.Writer, m proto.Message) error {
	raw, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	_, err = pretty.WriteTo(w)
	return err
}

// mspPath is the API path of an MSP's resource: /v1/msps/{msp} and the
// segments after it, each escaped.
func mspPath(msp string, segments ...string) string {
	var b strings.Builder
	b.WriteString("/v1/msps/" + url.PathEscape(msp))
	for _, s := range segments {
		b.WriteString("/" + url.PathEscape(s))
	}
	return b.String()
}
