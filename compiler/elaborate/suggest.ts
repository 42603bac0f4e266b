// Spellings a newcomer brings from PyTorch and Python, mapped to this language's, so
// "did you mean" (core/diagnostics.ts) points at the stdlib layer `conv` rather than
// the primitive `conv2d` it happens to be closest to, and at `axis` for `dim`.

/** Names: PyTorch module classes and Python literals. */
export const nameAliases: ReadonlyMap<string, string> = new Map([
  ["True", "true"],
  ["False", "false"],
  ["None", "none"],
  ["Linear", "linear"],
  ["Conv2d", "conv"],
  ["Conv1d", "conv"],
  ["conv2d_layer", "conv"],
  ["ConvTranspose2d", "conv_transpose"],
  ["BatchNorm1d", "batchnorm"],
  ["BatchNorm2d", "batchnorm"],
  ["LayerNorm", "layernorm"],
  ["LayerNorm2d", "layernorm2d"],
  ["Embedding", "embedding"],
  ["Dropout", "dropout"],
  ["ReLU", "relu"],
  ["ReLU6", "relu6"],
  ["Sigmoid", "sigmoid"],
  ["Tanh", "tanh"],
  ["GELU", "gelu"],
  ["SiLU", "silu"],
  ["Hardswish", "hardswish"],
  ["Hardsigmoid", "hardsigmoid"],
  ["Softmax", "softmax"],
  ["LogSoftmax", "log_softmax"],
  ["MaxPool2d", "maxpool"],
  ["AvgPool2d", "avgpool"],
  ["AdaptiveAvgPool2d", "global_avgpool"],
  ["Flatten", "flatten"],
  ["RNN", "rnn"],
  ["LSTM", "lstm"],
  ["GRU", "gru"],
  ["cat", "concat"],
  ["torch", "prim"],
]);

/** Keyword arguments: PyTorch's names for the stdlib's hyperparameters. */
export const argumentAliases: ReadonlyMap<string, string> = new Map([
  ["padding", "pad"],
  ["dim", "axis"],
  ["keepdim", "keepdims"],
  ["kernel_size", "k"],
  ["out_channels", "out"],
  ["out_features", "out"],
  ["hidden_size", "hidden"],
  ["num_layers", "layers"],
  ["num_embeddings", "num"],
  ["embedding_dim", "dim"],
  ["negative_slope", "slope"],
]);
