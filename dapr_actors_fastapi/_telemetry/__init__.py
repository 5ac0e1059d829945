"""Layer 3: what the package tells OpenTelemetry and logging about its work (traces, metrics,
the turn on log records), through the OpenTelemetry API alone: the user brings the SDK."""
