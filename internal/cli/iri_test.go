package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestIRIServe(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "iri.yaml")
	os.WriteFile(cfg, []byte(`listen: 127.0.0.1:1
root: state
tokens_file: tokens.json
facility: {id: test}
site: {id: here, operating_organization: Genesis}
resources: [{id: cpu, kind: local}, {id: gpu, kind: local}]
`), 0o644)
	os.WriteFile(filepath.Join(dir, "tokens.json"), []byte(`{"0123456789abcdef-alice": "alice"}`), 0o600)
	getenv := func(k string) string { return map[string]string{"GENESIS_LOG_LEVEL": "warn"}[k] }

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, []string{"iri", "serve", "--config", cfg, "--listen", "127.0.0.1:0"}, getenv, strings.NewReader(""), &stdout, &stderr)
	}()
	re := regexp.MustCompile(`iri provider serving (http://127\.0\.0\.1:\d+)/api/v2 \(resources: cpu, gpu\)`)
	var base string
	for deadline := time.Now().Add(2 * time.Minute); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		select {
		case c := <-code:
			t.Fatalf("exited %d early: %s", c, stderr.String())
		default:
		}
	}
	if base == "" {
		t.Fatalf("no serving line: %q %q", stdout.String(), stderr.String())
	}
	res, err := http.Get(base + "/api/v2/status/resources")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"id":"gpu"`) {
		t.Errorf("resources: %d %s", res.StatusCode, b)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 || !strings.Contains(stdout.String(), "iri provider stopped") {
			t.Errorf("exit %d, stdout %q, stderr %q", c, stdout.String(), stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no exit after the context ended")
	}

	// Errors are one line naming the field.
	for args, want := range map[string]string{
		"iri serve":                            "--config FILE is required",
		"iri serve --config /nonexistent.yaml": "cannot read config file",
	} {
		var out, errOut bytes.Buffer
		if c := Run(context.Background(), strings.Fields(args), getenv, strings.NewReader(""), &out, &errOut); c == 0 || !strings.Contains(errOut.String(), want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", args, c, errOut.String(), want)
		}
	}
	os.WriteFile(cfg, []byte("root: state\ntokens_file: tokens.json\nfacility: {id: test}\nsite: {id: here, operating_organization: G}\nresources: [{id: cpu, kind: pbs}]\n"), 0o644)
	var out, errOut bytes.Buffer
	if c := Run(context.Background(), []string{"iri", "serve", "--config", cfg}, getenv, strings.NewReader(""), &out, &errOut); c == 0 ||
		!strings.Contains(errOut.String(), "resources[0].kind") || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("bad kind: exit %d, stderr %q", c, errOut.String())
	}
}

// TestIRIServeTLS serves HTTPS from tls_cert/tls_key and says so.
func TestIRIServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "iri-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	os.WriteFile(filepath.Join(dir, "tokens.json"), []byte(`{"0123456789abcdef-alice": "alice"}`), 0o600)
	cfg := filepath.Join(dir, "iri.json")
	os.WriteFile(cfg, []byte(`{"listen": "127.0.0.1:0", "root": "state", "tokens_file": "tokens.json", "tls_cert": "cert.pem", "tls_key": "key.pem",
		"facility": {"id": "tls"}, "site": {"id": "here", "operating_organization": "Genesis"}, "resources": [{"id": "cpu", "kind": "local"}]}`), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, []string{"iri", "serve", "--config", cfg}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	}()
	re := regexp.MustCompile(`iri provider serving (https://127\.0\.0\.1:\d+)/api/v2 \(resources: cpu\)`)
	var base string
	for deadline := time.Now().Add(2 * time.Minute); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no https serving line: %q %q", stdout.String(), stderr.String())
	}
	pool := x509.NewCertPool()
	cert, _ := x509.ParseCertificate(der)
	pool.AddCert(cert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := hc.Get(base + "/api/v2/facility")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"id":"tls"`) {
		t.Errorf("facility over TLS: %d %s", res.StatusCode, b)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d: %s", c, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no exit after the context ended")
	}
}
