"""Keras definitions of the hybrid ConvLSTM-Seq2Seq detector and the plain Seq2Seq baseline."""

from __future__ import annotations

import weakref
from typing import Any

# TensorFlow/Keras are imported inside the functions: importing them costs seconds on two
# cores, and the CLI's --help, the GUI's first window and `import ids_desktop.core.analysis`
# must not pay that.

#: Names of the model outputs, in order.
CLASS_OUTPUT = "classes"
RECON_OUTPUT = "recon"


def build_hybrid(
    seq_len: int,
    n_features: int,
    n_classes: int,
    *,
    filters: int = 8,
    kernel_size: int = 3,
    strides: int = 2,
    head_units: int = 64,
    head_layers: int = 1,
    seed: int = 0,
    name: str | None = None,
) -> Any:
    """Build the hybrid ConvLSTM1D encoder-decoder (Seq2Seq sequence labeller).

    The input is ``(T, F, 2)``: per flow of the sequence, the scaled features along the
    spatial axis (channel 0) and a presence mask (channel 1, zero at left padding). The
    ConvLSTM1D encoder convolves across the feature axis and recurs across the ``T`` flows;
    its final states seed a ConvLSTM1D decoder that reads the encoder's output sequence and
    emits, for every flow of the sequence, class probabilities and a reconstruction of the
    flow's features (the anomaly score is the reconstruction error).

    Parameters
    ----------
    seq_len, n_features, n_classes
        ``T``, ``F`` and the number of classes.
    filters, kernel_size, strides
        ConvLSTM1D sizing; ``strides`` shrinks the feature axis for speed.
    head_units, head_layers
        Width and depth of the per-flow dense layers of the class head.
    seed
        Seed for the weight initialisers.
    name
        The model's name (members of an ensemble need distinct ones).

    Returns
    -------
    keras.Model
        Inputs ``flows``; outputs ``classes`` ``(T, C)`` softmax and ``recon`` ``(T, F)``.
    """
    import keras
    from keras import layers

    init = keras.initializers.GlorotUniform(seed=seed)
    rinit = keras.initializers.Orthogonal(seed=seed + 1)
    inputs = keras.Input(shape=(seq_len, n_features, 2), name="flows")
    enc_seq, enc_h, enc_c = layers.ConvLSTM1D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        return_sequences=True,
        return_state=True,
        kernel_initializer=init,
        recurrent_initializer=rinit,
        name="encoder",
    )(inputs)
    dec_seq = layers.ConvLSTM1D(
        filters,
        kernel_size,
        padding="same",
        return_sequences=True,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 2),
        recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 3),
        name="decoder",
    )(enc_seq, initial_state=[enc_h, enc_c])
    width = int(dec_seq.shape[2]) * filters
    flat = layers.Reshape((seq_len, width), name="per_flow")(dec_seq)
    # A skip from the raw features keeps exact per-feature values available to the heads.
    raw = layers.Reshape((seq_len, n_features * 2), name="raw_flow")(inputs)
    joined = layers.Concatenate(name="joined")([flat, raw])
    hidden = joined
    for i in range(head_layers):
        hidden = layers.Dense(
            head_units,
            activation="relu",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 4 + 10 * i),
            name="head" if i == 0 else f"head_{i}",
        )(hidden)
    classes = layers.Dense(
        n_classes,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 5),
        name=CLASS_OUTPUT,
    )(hidden)
    # The reconstruction branch sees only the ConvLSTM path (not the raw skip), otherwise it
    # could copy its input and every flow would reconstruct perfectly.
    bottleneck = layers.Dense(
        max(4, n_features // 4),
        activation="relu",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 6),
        name="recon_code",
    )(flat)
    recon = layers.Dense(
        n_features,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 7),
        name=RECON_OUTPUT,
    )(bottleneck)
    return keras.Model(inputs, [classes, recon], name=name or "hybrid_convlstm_seq2seq")


def average_members(members: list[Any], name: str = "hybrid_ensemble") -> Any:
    """One model whose outputs are the means of the ``members``' outputs.

    The members are hybrids (:func:`build_hybrid`) of the same input shape trained from
    different seeds; averaging their class probabilities steadies the family a single network
    assigns to traffic unlike its training data. The result has the hybrid's interface
    (input ``flows``, outputs ``classes`` and ``recon``), so saving, scoring, LIME and the ONNX
    export (:func:`unrolled_for_export`) treat it like one network.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(members[0].inputs[0].shape[1:]), name="flows")
    outs = [m(inputs) for m in members]
    classes = layers.Average(name=CLASS_OUTPUT)([o[0] for o in outs])
    recon = layers.Average(name=RECON_OUTPUT)([o[1] for o in outs])
    return keras.Model(inputs, [classes, recon], name=name)


def build_seq2seq(
    seq_len: int, n_features: int, n_classes: int, *, units: int = 64, seed: int = 0
) -> Any:
    """Build the plain Seq2Seq baseline: an LSTM encoder whose states seed an LSTM decoder.

    Same input layout as :func:`build_hybrid`, flattened per flow to ``(T, 2F)``; one output,
    ``classes`` ``(T, C)`` softmax.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(seq_len, n_features, 2), name="flows")
    flat = layers.Reshape((seq_len, n_features * 2))(inputs)
    enc_seq, h, c = layers.LSTM(
        units,
        return_sequences=True,
        return_state=True,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 1),
        name="encoder",
    )(flat)
    dec = layers.LSTM(
        units,
        return_sequences=True,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 2),
        recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 3),
        name="decoder",
    )(enc_seq, initial_state=[h, c])
    classes = layers.Dense(
        n_classes,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 4),
        name=CLASS_OUTPUT,
    )(dec)
    return keras.Model(inputs, classes, name="seq2seq_lstm")


_PREDICTORS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def compiled_predictor(model: Any) -> Any:
    """``model`` wrapped in a compiled ``tf.function`` (no per-call ``model.predict`` cost).

    One function per model, cached, so repeated calls never retrace.
    """
    import tensorflow as tf

    run = _PREDICTORS.get(model)
    if run is None:

        @tf.function(reduce_retracing=True)  # type: ignore[untyped-decorator]  # TF is untyped
        def run(x: Any) -> Any:
            return model(x, training=False)

        _PREDICTORS[model] = run
    return run


def predict_batches(model: Any, x: Any, *, batch: int = 8192, predictor: Any = None) -> Any:
    """Run ``model`` on ``x`` in large batches through a compiled function.

    Returns a list of numpy arrays (one per output) or a single array for one-output models.
    The last partial batch is padded to ``batch`` rows so the function is traced only once.
    """
    import numpy as np

    run = predictor or compiled_predictor(model)
    n = len(x)
    outs: list[list[Any]] = []
    single = False
    for start in range(0, max(n, 1), batch):
        chunk = x[start : start + batch]
        m = len(chunk)
        if m == 0:
            break
        if m < batch and n > batch:
            pad = np.zeros((batch - m, *chunk.shape[1:]), dtype=chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        res = run(chunk)
        if not isinstance(res, (list, tuple)):
            res = [res]
            single = True
        if not outs:
            outs = [[] for _ in res]
        for i, r in enumerate(res):
            outs[i].append((r.numpy() if hasattr(r, "numpy") else np.asarray(r))[:m])
    if not outs:
        return None
    joined = [np.concatenate(o) for o in outs]
    return joined[0] if single else joined


def _same_conv_columns(x: Any, kernel: int, stride: int) -> Any:
    """The im2col columns of a channels-last "same" 1-D convolution along axis ``-2``.

    ``x`` ``(..., L, C)`` -> ``(..., ceil(L / stride), kernel * C)``: output position ``j``
    holds the ``kernel`` input positions it reads (TensorFlow's "same" padding: the odd pad
    goes to the right), tap-major, so a matmul with the conv kernel reshaped to
    ``(kernel * C, out)`` is the convolution.
    """
    from keras import ops

    length = int(x.shape[-2])
    out = -(-length // stride)
    total = max((out - 1) * stride + kernel - length, 0)
    left = total // 2
    pads = [[0, 0]] * (len(x.shape) - 2) + [[left, total - left], [0, 0]]
    padded = ops.pad(x, pads) if total else x
    span = (out - 1) * stride + 1
    taps = [padded[..., j : j + span : stride, :] for j in range(kernel)]
    return taps[0] if kernel == 1 else ops.concatenate(taps, axis=-1)


def unrolled_for_export(model: Any) -> Any:
    """The hybrid ``model`` rebuilt with its ConvLSTM1D recurrences unrolled over ``T``.

    Same layers and weights (shared, not copied); only the recurrences become ``T`` explicit
    steps. Keras 3's ConvLSTM1D has no ``unroll`` argument, and its while-loop exports to an
    ONNX ``Loop`` whose per-step transposes made onnxruntime 3-4x slower than TensorFlow.

    Each convolution is written as im2col columns times the kernel (``Pad``, ``Slice``,
    ``Concat``, ``MatMul``) in the channels-last layout the layers use, and the input
    convolution of all ``T`` steps is one matmul. Written as ``Conv`` ops, every step of the
    export converted its tensors to ONNX's channels-first layout and back: 78 ``Transpose``
    nodes took half of onnxruntime's time on the T = 8 capture model, and the im2col form
    scores it 1.5x faster (``bench/RESULTS.md``). The arithmetic is the convolution's own;
    :func:`ids_desktop.core.model.runtime.export_onnx` checks the export against ``model``.
    """
    import keras
    from keras import ops

    class UnrolledConvLSTM1D(keras.layers.Layer):  # type: ignore[misc]  # keras is untyped
        def __init__(self, rnn: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.rnn_cell = rnn.cell
            cell = rnn.cell
            if cell.padding != "same" or tuple(cell.dilation_rate) != (1,):
                raise ValueError("unrolled export needs padding='same' and no dilation")

        def call(self, x: Any, initial_state: Any = None) -> Any:
            cell = self.rnn_cell
            width = int(cell.kernel_size[0])
            kernel = ops.reshape(cell.kernel, (-1, 4 * cell.filters))
            recurrent = ops.reshape(cell.recurrent_kernel, (-1, 4 * cell.filters))
            # The input half of every step's gates at once: (batch, T, L', 4 * filters).
            z_in = ops.matmul(_same_conv_columns(x, width, int(cell.strides[0])), kernel)
            if cell.use_bias:
                z_in = z_in + cell.bias
            h = c = None
            if initial_state is not None:
                h, c = initial_state
            outs = []
            for t in range(int(x.shape[1])):
                z = z_in[:, t]
                if h is not None:  # a zero state adds nothing to the gates
                    z = z + ops.matmul(_same_conv_columns(h, width, 1), recurrent)
                zi, zf, zc, zo = ops.split(z, 4, axis=-1)
                i = cell.recurrent_activation(zi)
                gate = i * cell.activation(zc)
                c = gate if c is None else cell.recurrent_activation(zf) * c + gate
                h = cell.recurrent_activation(zo) * cell.activation(c)
                outs.append(h)
            return ops.stack(outs, axis=1), h, c

    steps, n_features = int(model.inputs[0].shape[1]), int(model.inputs[0].shape[2])

    def unrolled(net: Any, name: str) -> Any:
        inputs = keras.Input(shape=(steps, n_features, 2), name="flows")
        encoder = UnrolledConvLSTM1D(net.get_layer("encoder"), name="encoder_unrolled")
        enc_seq, h, c = encoder(inputs)
        decoder = UnrolledConvLSTM1D(net.get_layer("decoder"), name="decoder_unrolled")
        dec_seq, _, _ = decoder(enc_seq, initial_state=[h, c])
        flat = net.get_layer("per_flow")(dec_seq)
        raw = net.get_layer("raw_flow")(inputs)
        hidden = net.get_layer("joined")([flat, raw])
        for layer in net.layers:
            if layer.name == "head" or layer.name.startswith("head_"):
                hidden = layer(hidden)
        classes = net.get_layer(CLASS_OUTPUT)(hidden)
        recon = net.get_layer(RECON_OUTPUT)(net.get_layer("recon_code")(flat))
        return keras.Model(inputs, [classes, recon], name=name)

    members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if not members:  # one network
        return unrolled(model, "hybrid_unrolled")
    # An ensemble (average_members): each member unrolled in its own namespace, then averaged.
    return average_members([unrolled(m, f"{m.name}_unrolled") for m in members],
                           name="hybrid_unrolled")
