"""The hybrid ConvLSTM-Seq2Seq detector: sequences, preprocessing, network, bundles, training.

TensorFlow is imported only inside the functions that need it (network building, loading and
training), so importing this package and its light modules stays fast.
"""
