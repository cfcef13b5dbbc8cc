"""Per-region CDK stacks of Hybrid Care Orchestrator (see infra/README.md)."""

from .node import use_pinned_node

# jsii starts its Node.js process when aws_cdk is first imported: choose the pinned Node before
# any module of this package (or a test importing one) can import aws_cdk.
use_pinned_node()
