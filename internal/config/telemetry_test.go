package config_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
)

// TestTelemetryConfig: the telemetry settings come from the file or the
// environment, and bad ones are refused naming the field.
func TestTelemetryConfig(t *testing.T) {
	c, err := config.Parse("g.yaml", []byte("data_dir: /d\nlog:\n  format: json\ntelemetry:\n  metrics_addr: 127.0.0.1:9464\n  otlp_endpoint: http://collector:4318\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Telemetry.MetricsAddr != "127.0.0.1:9464" || c.Telemetry.OTLPEndpoint != "http://collector:4318" || c.Log.Format != "json" {
		t.Errorf("%+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	env := map[string]string{"GENESIS_METRICS_ADDR": ":9100", "GENESIS_OTLP_ENDPOINT": "https://otel.example.org", "GENESIS_LOG_FORMAT": "text"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.Telemetry.MetricsAddr != ":9100" || c.Telemetry.OTLPEndpoint != "https://otel.example.org" || c.Log.Format != "text" {
		t.Errorf("env: %+v", c)
	}
	for _, tc := range []struct{ field, addr, endpoint string }{
		{"telemetry.metrics_addr", "9464", ""},
		{"telemetry.metrics_addr", "127.0.0.1:8080", ""}, // the API's own address
		{"telemetry.otlp_endpoint", "", "collector:4318"},
		{"telemetry.otlp_endpoint", "", "grpc://collector:4317"},
		{"telemetry.otlp_endpoint", "", "http://"},
	} {
		c := config.Default("/d")
		c.Telemetry = config.Telemetry{MetricsAddr: tc.addr, OTLPEndpoint: tc.endpoint}
		if err := c.Validate(); errors.FieldOf(err) != tc.field {
			t.Errorf("%+v: %v, want an error naming %s", tc, err, tc.field)
		}
	}
}
