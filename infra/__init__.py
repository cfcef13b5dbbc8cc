"""Per-region CDK stacks of Hybrid Care Orchestrator (see infra/README.md)."""
