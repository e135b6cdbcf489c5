"""The hybrid ConvLSTM-Seq2Seq detector: sequences, preprocessing, network, bundles, training."""

# TensorFlow is imported only inside the functions that need it (building, loading and
# training models), so importing this package and its light modules stays fast.
