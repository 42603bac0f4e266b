// The code examples of docs/LANGUAGE.md, verbatim, as parser fixtures. Keep
// them in sync with the document. All parse without diagnostics except the
// `…` placeholder body of `lstm` in layerTier (see examples.test.ts).

export const classify = `// examples/classify.nn — the design card's own pipeline
import rnn
import attention

model classify(vocab: int = 1000, classes: int = 4)(tokens: i32[N, T]) {
  tokens -> embedding(vocab, 128) -> lstm(512) -> attention(local_p, D=10)
         -> mean(axis=1) -> linear(classes) -> softmax
}
`;

export const declarations = `import resnet                  // stdlib module (stdlib/resnet.nn)
import "./blocks.nn"           // a file, relative to this one

// A point-free layer: a pipeline with parameters and defaults.
def conv_bn_relu(c: int, k: int = 3, stride: int = 1) =
  conv(c, k, stride=stride, pad=k/2, bias=false) -> batchnorm -> relu

// A block with explicit dataflow: named values, branches, labels.
def basic(c: int, stride: int = 1)(x) {
  let y = x -> conv1: conv(c, 3, stride=stride, pad=1, bias=false) -> bn1: batchnorm
            -> relu -> conv2: conv(c, 3, pad=1, bias=false) -> bn2: batchnorm
  let s = if stride != 1 || x.channels != c
          then x -> downsample: [conv(c, 1, stride=stride, bias=false), batchnorm]
          else x
  relu(y + s)
}

// A model: hyperparameters, then typed tensor inputs; its last expression (or
// \`return\`) is the output, named \`output\`; several outputs, or a named one,
// are returned as a record \`{logits: a, state: b}\`.
model resnet18(classes: int = 1000)(input: f32[N, 3, H, W]) {
  let logits = input
        -> conv1: conv(64, 7, stride=2, pad=3, bias=false) -> bn1: batchnorm -> relu
        -> maxpool(3, stride=2, pad=1)
        -> layer1: stage(basic, 64, 2) -> layer2: stage(basic, 128, 2, stride=2)
        -> layer3: stage(basic, 256, 2, stride=2) -> layer4: stage(basic, 512, 2, stride=2)
        -> global_avgpool -> flatten -> fc: linear(classes)
  {logits: logits}
}
`;

export const layerTier = `layer linear(out: int, bias: bool = true)(input) {
  param weight: [out, input.shape[-1]]          // declared here, read as self.weight
  param bias: [out] if bias                     // hyperparameter \`bias\` and param \`bias\` live apart
  let y = input @ self.weight.T
  if bias then y + self.bias else y
}

layer batchnorm(eps: float = 1e-5)(input) {
  param weight: [input.channels] init norm_weight
  param bias: [input.channels] init norm_bias
  buffer running_mean: [input.channels] init running_mean
  buffer running_var: [input.channels] init running_var
  buffer num_batches_tracked: i64[] init zeros    // kept so state_dicts round-trip
  let c = [1, input.channels, 1, 1]              // broadcast along channels
  (input - self.running_mean.reshape(c)) * rsqrt(self.running_var.reshape(c) + eps)
    * self.weight.reshape(c) + self.bias.reshape(c)
}

layer lstm_cell(hidden: int)(x, state: {h, c}) {
  param weight_ih: [4*hidden, x.shape[-1]]
  param weight_hh: [4*hidden, hidden]
  param bias_ih: [4*hidden]
  param bias_hh: [4*hidden]
  let g = x @ self.weight_ih.T + self.bias_ih + state.h @ self.weight_hh.T + self.bias_hh
  let i, f, c_, o = split(g, 4, axis=-1)        // PyTorch gate order i, f, g, o
  let c = sigmoid(f) * state.c + sigmoid(i) * tanh(c_)
  let h = sigmoid(o) * tanh(c)
  {out: h, h: h, c: c}
}

layer lstm(hidden: int, layers: int = 1, bidirectional: bool = false)
          (input, h0 = zeros, c0 = zeros) {
  // scan runs a cell over axis 1 (time, batch first); \`reverse\` for the
  // backward direction; param names follow torch.nn.LSTM: weight_ih_l0,
  // weight_hh_l0_reverse, …; results {output, h_n, c_n} as torch returns them
  …
}
`;
