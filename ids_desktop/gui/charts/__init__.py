"""pyqtgraph widgets that take plain data (explanations, counts), never core objects' internals."""
