// Command llm-script is a scripted, OpenAI-compatible language model for
// tests and benchmarks (see internal/llm/llmtest for the script format):
//
//	llm-script -script FILE [-addr 127.0.0.1:0] [-log FILE]
//	           [-embed-corpus DIR|FILE.jsonl] [-embed-dim 128]
//	           [-lsa MODEL] [-lsa-save MODEL]
//
// It prints "LISTEN http://HOST:PORT/v1" on stdout once it listens, serves
// /v1/chat/completions and /v1/embeddings, and appends every request as a
// JSON line to -log. Embeddings come from an LSA model of -embed-corpus
// (or the script's embed.corpus), or one loaded with -lsa; -lsa-save
// writes the model built so a bench can reuse it. Without any, the
// hashing embedder answers.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/llm/llmtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "llm-script:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("llm-script", flag.ContinueOnError)
	fl.SetOutput(stderr)
	scriptPath := fl.String("script", "", "the script file (.yaml, .yml or .json); none: every chat request fails with 400")
	addr := fl.String("addr", "127.0.0.1:0", "listen address")
	logPath := fl.String("log", "", "append requests as JSON lines to this file")
	corpus := fl.String("embed-corpus", "", "build the LSA embedder from this directory or JSON Lines file")
	dim := fl.Int("embed-dim", 0, "LSA dimensions (default: the script's embed.dim, else 128)")
	lsaPath := fl.String("lsa", "", "load the LSA embedder from this file")
	lsaSave := fl.String("lsa-save", "", "save the LSA model built to this file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	script := &llmtest.Script{}
	if *scriptPath != "" {
		s, err := llmtest.LoadScript(*scriptPath)
		if err != nil {
			return err
		}
		script = s
	}
	if script.Embed != nil {
		if *corpus == "" {
			*corpus = script.Embed.Corpus
		}
		if *dim == 0 {
			*dim = script.Embed.Dim
		}
	}
	var emb llm.Embedder
	switch {
	case *lsaPath != "":
		f, err := os.Open(*lsaPath)
		if err != nil {
			return err
		}
		l, err := llm.LoadLSA(f)
		f.Close()
		if err != nil {
			return err
		}
		emb = l
	case *corpus != "":
		texts, err := llmtest.ReadCorpus(*corpus)
		if err != nil {
			return err
		}
		start := time.Now()
		l := llm.NewLSA(texts, *dim)
		fmt.Fprintf(stderr, "llm-script: LSA %s of %d texts (%d terms) built in %s\n", l.Model(), len(texts), l.Vocabulary(), time.Since(start).Round(time.Millisecond))
		emb = l
		if *lsaSave != "" {
			f, err := os.Create(*lsaSave)
			if err != nil {
				return err
			}
			if err := l.Save(f); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
	default:
		emb = llm.NewHashEmbedder(*dim)
	}
	var logw io.Writer
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		logw = f
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: llmtest.NewServer(script, emb, logw), ReadHeaderTimeout: 30 * time.Second}
	fmt.Fprintf(stdout, "LISTEN http://%s/v1\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return nil
	}
}
