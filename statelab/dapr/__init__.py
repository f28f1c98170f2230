"""The daprd contract, with no web framework: Dapr's state semantics and its HTTP binding."""
