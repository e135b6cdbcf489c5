"""Per-flow LIME explanations: which features, and which earlier flows, drove a verdict."""
