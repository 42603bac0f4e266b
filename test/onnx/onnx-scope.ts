// The ONNX backend test cases nnc leaves out, each with its reason and the
// error `nnc run` must give for it (never a silent skip). docs/onnx.md lists them.

export const outOfScope: Record<string, { why: string; error: string }> = {
  ...Object.fromEntries(
    [
      "test_AvgPool3d",
      "test_AvgPool3d_stride",
      "test_AvgPool3d_stride1_pad0_gpu_input",
      "test_Conv3d",
      "test_Conv3d_dilated",
      "test_Conv3d_dilated_strided",
      "test_Conv3d_groups",
      "test_Conv3d_no_bias",
      "test_Conv3d_stride",
      "test_Conv3d_stride_padding",
      "test_MaxPool3d",
      "test_MaxPool3d_stride",
      "test_MaxPool3d_stride_padding",
    ].map((n) => [
      n,
      { why: "3-D convolution and pooling (nnc has 1-D and 2-D)", error: "on a 5-D input" },
    ]),
  ),
  test_MaxPool1d_stride_padding_dilation: {
    why: "dilated pooling (nnc's pool2d has no dilation)",
    error: "pooling with dilation is not supported",
  },
  test_MaxPool2d_stride_padding_dilation: {
    why: "dilated pooling (nnc's pool2d has no dilation)",
    error: "pooling with dilation is not supported",
  },
};
