"""Inception-like entry flow (stem): an image to feature maps at 1/8 of its size."""

from keras import layers

from posenet.models.blocks import act_conv_bn, conv_bn, conv_bn_act, sepconv_residual


def scaled(channels, width):
    """Channel count scaled by a width multiplier, at least 8."""
    return max(8, int(round(channels * width)))


def stem(x, num_features=576, width=1.0, name="stem"):
    """(S, S, 3) images -> (S/8, S/8, num_features) features (256 -> 32 x 32 x 576).

    Three stride-2 stages, each a strided convolution beside a pooling branch, with an
    asymmetric (5x1, 1x5) branch in the middle, as in the method's Inception-v4-like stem.
    ``width`` scales every inner channel count, for the smaller CPU presets.
    """

    def c(n):
        return scaled(n, width)

    x = conv_bn_act(x, c(32), 3, f"{name}_c1", strides=2)
    x = conv_bn_act(x, c(32), 3, f"{name}_c2")
    x = conv_bn_act(x, c(64), 3, f"{name}_c3")

    a = conv_bn_act(x, c(96), 3, f"{name}_s1_conv", strides=2)
    b = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_s1_pool")(x)
    x = layers.Concatenate(name=f"{name}_s1_concat")([a, b])

    a = conv_bn_act(x, c(64), 1, f"{name}_a1")
    a = conv_bn(a, c(96), 3, f"{name}_a2")
    b = conv_bn_act(x, c(64), 1, f"{name}_b1")
    b = conv_bn_act(b, c(64), (5, 1), f"{name}_b2")
    b = conv_bn_act(b, c(64), (1, 5), f"{name}_b3")
    b = conv_bn(b, c(96), 3, f"{name}_b4")
    x = layers.Concatenate(name=f"{name}_ab_concat")([a, b])

    a = act_conv_bn(x, c(192), 3, f"{name}_s2_conv", strides=2)
    b = layers.MaxPooling2D(2, strides=2, name=f"{name}_s2_pool")(x)
    x = layers.Concatenate(name=f"{name}_s2_concat")([a, b])
    return sepconv_residual(x, num_features, 3, f"{name}_out")
