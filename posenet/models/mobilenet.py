"""MobileNetV2 feature extractor and its feature pyramid, as in MoveNet.

Batch normalisation is folded into the convolutions (each has a bias), as in the published
MoveNet weights, so the layers are plain biased convolutions. Layer names are those of the
MoveNet graph's tensors (``Conv1``, ``block_1_expand``, ..., ``Conv_1``), so imported
weights are matched by name. ``keras.applications.MobileNetV2`` is not used because its
last convolution widens with the depth multiplier (2240 channels at 1.75) while MoveNet
Thunder keeps 1280, and its convolutions carry batch norm instead of biases.
"""

from keras import layers

#: MobileNetV2's inverted residual stages: expansion t, channels c, repeats n, stride s.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
          (6, 160, 3, 2), (6, 320, 1, 1))
#: Blocks whose outputs feed the pyramid, at strides 4, 8 and 16 (the last stage: 32).
PYRAMID_TAPS = (2, 5, 9)
#: Channels of the pyramid's top (stride 32) and of its merged levels at strides 16 and 8.
PYRAMID_TOP, PYRAMID_WIDTHS = 64, (32, 24)


def make_divisible(value, divisor=8):
    """Channels rounded to a multiple of ``divisor``, never down by more than 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _conv(x, filters, kernel, name, strides=1, relu6=True):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", name=name)(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x) if relu6 else x


def mobilenet_v2(image, alpha=1.0, last_width=1280):
    """MobileNetV2 features of ``image`` (inputs scaled to [-1, 1]).

    Returns the outputs at strides 4, 8, 16 (the residual sums of blocks 2, 5, 9) and 32
    (the last 1x1 convolution, ``last_width`` channels). Stride-2 convolutions pad
    "same", i.e. one row and column after the image for even sizes (as Keras' own
    MobileNetV2 and TensorFlow's graph do).
    """
    x = _conv(image, make_divisible(32 * alpha), 3, "Conv1", strides=2)
    taps, block = [], 0
    for t, c, n, s in STAGES:
        for i in range(n):
            name = "expanded_conv" if block == 0 else f"block_{block}"
            filters = make_divisible(c * alpha)
            strides = s if i == 0 else 1
            shortcut = x
            if t != 1:
                x = _conv(x, x.shape[-1] * t, 1, f"{name}_expand")
            x = layers.DepthwiseConv2D(3, strides=strides, padding="same",
                                       name=f"{name}_depthwise")(x)
            x = layers.ReLU(6.0, name=f"{name}_depthwise_relu")(x)
            x = layers.Conv2D(filters, 1, name=f"{name}_project")(x)
            if strides == 1 and shortcut.shape[-1] == filters:
                x = layers.Add(name=f"{name}_add")([shortcut, x])
            if block in PYRAMID_TAPS:
                taps.append(x)
            block += 1
    taps.append(_conv(x, last_width, 1, "Conv_1"))
    return taps


def feature_pyramid(taps, out_width=24):
    """MoveNet's decoder: the stride-32 features upsampled (bilinear) to stride 4, adding
    a 1x1 projection of each finer tap and a separable 3x3 convolution (ReLU) per level.

    Returns (S/4, S/4, ``out_width``) features.
    """
    fine4, fine8, fine16, coarse = taps
    widths = (*PYRAMID_WIDTHS, out_width)
    x = layers.Conv2D(PYRAMID_TOP, 1, name="fpn_top")(coarse)
    for level, (tap, width) in enumerate(zip((fine16, fine8, fine4), widths, strict=True)):
        stride = 16 >> level
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"fpn_up{stride}")(x)
        lateral = layers.Conv2D(x.shape[-1], 1, name=f"fpn_lateral{stride}")(tap)
        x = layers.Add(name=f"fpn_add{stride}")([x, lateral])
        x = layers.SeparableConv2D(width, 3, padding="same", activation="relu",
                                   name=f"fpn_merge{stride}")(x)
    return x


def centernet_head(x, outputs, name, width=96):
    """One MoveNet head: a separable 3x3 convolution (ReLU) and a 1x1 convolution."""
    x = layers.SeparableConv2D(width, 3, padding="same", activation="relu",
                               name=f"{name}_sepconv")(x)
    return layers.Conv2D(outputs, 1, name=name)(x)
