"""The traffic lab: labelled flows from real tools in isolated network namespaces."""
