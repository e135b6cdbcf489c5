"""The hybrid ConvLSTM-Seq2Seq detector: sequences, preprocessing, network, bundles, scoring."""

# TensorFlow is imported only inside the functions that need it (building and loading models;
# training is ids_desktop.training), so importing this package and its light modules stays fast.
